"""Domain-adversarial training of neural networks (DANN).

Ganin & Lempitsky, "Unsupervised Domain Adaptation by Backpropagation", ICML 2015;
Ganin et al., "Domain-Adversarial Training of Neural Networks", JMLR 17 (2016).

A feature extractor G_f feeds a label predictor G_y and, through a gradient reversal layer (GRL), a
domain classifier G_d. One SGD step on L_y(source) + L_d(source and target) then

    moves G_y and G_d down their losses, and
    moves G_f down L_y but *up* L_d (the GRL multiplies the gradient by -lambda),

so the features become discriminative for the labels and indistinguishable between domains: the
saddle point of E = L_y - lambda L_d. The published schedules (JMLR sec. 5.2.2):

    lambda_p = 2 / (1 + exp(-gamma p)) - 1,      gamma = 10
    mu_p     = mu_0 / (1 + alpha p)^beta,         alpha = 10, beta = 0.75

with p the training progress from 0 to 1, SGD with momentum 0.9, each batch half source, half target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gankit.nets.dann import DANNNets

# ----------------------------------------------------------------------------- gradient reversal


class _GradReverse(torch.autograd.Function):
    """Identity forward; gradient times -lambda backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lambd: float) -> torch.Tensor:
        ctx.lambd = lambd
        return x.view_as(x)  # a view, so that autograd records this node even for the identity

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.lambd * grad, None


def grad_reverse(x: torch.Tensor, lambd: float = 1.0) -> torch.Tensor:
    """The gradient reversal layer R_lambda: R(x) = x, dR/dx = -lambda I (Ganin & Lempitsky 2015, eq. 9-10).

    Args:
        x: any tensor.
        lambd: the reversal strength (a Python float; 0 blocks the gradient).

    Returns:
        ``x`` unchanged (as a view) whose gradient is multiplied by ``-lambd``.
    """
    return _GradReverse.apply(x, float(lambd))


class GradientReversal(nn.Module):
    """:func:`grad_reverse` as a module; set ``.lambd`` as training progresses."""

    def __init__(self, lambd: float = 1.0):
        super().__init__()
        self.lambd = lambd

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return grad_reverse(x, self.lambd)

    def extra_repr(self) -> str:
        return f"lambd={self.lambd}"


# ----------------------------------------------------------------------------- schedules


@dataclass
class FitResult:
    """One trained method (source_only, dann or target_only) for one seed."""

    nets: DANNNets
    target_acc: float
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)  # the rows of its metrics.csv


def lambda_schedule(p: float, gamma: float = 10.0) -> float:
    """lambda_p = 2 / (1 + exp(-gamma p)) - 1 (JMLR sec. 5.2.2): 0 at p = 0, tanh(gamma/4) ~ 1 at p = 1.

    The domain gradient is off at the start, while the domain classifier's signal is still noise.
    """
    return 2.0 / (1.0 + math.exp(-gamma * p)) - 1.0


def lr_schedule(p: float, lr0: float, alpha: float = 10.0, beta: float = 0.75) -> float:
    """mu_p = mu_0 / (1 + alpha p)^beta (JMLR sec. 5.2.2)."""
    return lr0 / (1.0 + alpha * p) ** beta


def make_optimizer(nets: DANNNets, lr: float, momentum: float = 0.9, weight_decay: float = 0.0) -> torch.optim.SGD:
    """SGD with momentum over all three networks (one learning rate, set per step by :func:`set_lr`)."""
    return torch.optim.SGD(nets.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


# ----------------------------------------------------------------------------- steps


def domain_labels(n_source: int, n_target: int, device: torch.device | None = None) -> torch.Tensor:
    """d = 0 for source items, 1 for target items."""
    return torch.cat([torch.zeros(n_source, device=device), torch.ones(n_target, device=device)])


def dann_step(
    nets: DANNNets,
    opt: torch.optim.Optimizer,
    x_s: torch.Tensor,
    y_s: torch.Tensor,
    x_t: torch.Tensor,
    lambd: float,
    separate_bn: bool = False,
) -> dict[str, torch.Tensor]:
    """One DANN iteration on a batch of labelled source and unlabelled target items.

    The source and target items pass through G_f together (batch-norm statistics over both
    domains) or, with ``separate_bn``, one domain after the other (statistics per domain, which
    removes each domain's own colour and contrast statistics from the features, as in AdaBN).
    With ``lambd = 0`` the features get no domain gradient at all.

    Args:
        nets: the three networks.
        opt: an optimizer over all of them (its learning rate already set).
        x_s, y_s: source items and labels.
        x_t: target items (their labels are never used).
        lambd: the gradient reversal strength.

    Returns:
        0-dim tensors: ``label_loss``, ``domain_loss``, ``domain_error`` (the domain classifier's
        error on this batch, 0.5 = chance), ``label_acc`` (source batch accuracy).
    """
    n_s = x_s.shape[0]
    if separate_bn:
        # Each domain through G_f on its own: batch norm then normalises per domain (as in AdaBN).
        f = torch.cat([nets.features(x_s), nets.features(x_t)])
    else:
        f = nets.features(torch.cat([x_s, x_t]))
    logits = nets.classifier(f[:n_s])
    label_loss = F.cross_entropy(logits, y_s)
    # lambda = 0: detach instead of reversing by 0, which skips a useless backward through G_f.
    f_d = f.detach() if lambd == 0 else grad_reverse(f, lambd)
    d_logits = nets.domain(f_d)
    d = domain_labels(n_s, x_t.shape[0], f.device)
    domain_loss = F.binary_cross_entropy_with_logits(d_logits, d)
    opt.zero_grad(set_to_none=True)
    (label_loss + domain_loss).backward()
    opt.step()
    with torch.no_grad():
        domain_error = ((d_logits > 0).float() != d).float().mean()
        label_acc = (logits.argmax(1) == y_s).float().mean()
    return {"label_loss": label_loss.detach(), "domain_loss": domain_loss.detach(), "domain_error": domain_error, "label_acc": label_acc}


def source_only_step(nets: DANNNets, opt: torch.optim.Optimizer, x_s: torch.Tensor, y_s: torch.Tensor, x_t: torch.Tensor) -> dict[str, torch.Tensor]:
    """One source-only step (the lower bound), with a domain classifier that only watches.

    G_f and G_y learn from the source labels alone (batch-norm statistics from source items only).
    G_d is then fitted on both domains' features as the network computes them at test time (eval
    mode, no gradient into G_f), so its error shows how far apart the domains stay without adaptation.

    Returns:
        0-dim tensors: ``label_loss``, ``label_acc``, ``domain_loss``, ``domain_error``.
    """
    stats = supervised_step(nets, opt, x_s, y_s)
    nets.features.eval()
    with torch.no_grad():
        f = nets.features(torch.cat([x_s, x_t]))
    nets.features.train()
    d_logits = nets.domain(f)
    d = domain_labels(x_s.shape[0], x_t.shape[0], f.device)
    domain_loss = F.binary_cross_entropy_with_logits(d_logits, d)
    opt.zero_grad(set_to_none=True)
    domain_loss.backward()
    opt.step()  # only G_d has gradients; SGD skips parameters whose grad is None
    with torch.no_grad():
        domain_error = ((d_logits > 0).float() != d).float().mean()
    return stats | {"domain_loss": domain_loss.detach(), "domain_error": domain_error}


def supervised_step(nets: DANNNets, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """One plain supervised step of G_f and G_y (the target-only upper bound)."""
    logits = nets.classifier(nets.features(x))
    loss = F.cross_entropy(logits, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"label_loss": loss.detach(), "label_acc": (logits.argmax(1) == y).float().mean()}


def accuracy(nets: DANNNets, x: torch.Tensor, y: torch.Tensor) -> float:
    """Classification accuracy of ``nets`` on (x, y), in eval mode."""
    return float((nets.predict(x) == y.to(x.device)).float().mean())


def progress(step: int, steps: int) -> float:
    """Training progress p in [0, 1] after ``step`` of ``steps``."""
    return min(1.0, step / max(1, steps))


def schedule_state(step: int, steps: int, lr0: float, gamma: float, alpha: float, beta: float, lambda_max: float = 1.0) -> dict[str, Any]:
    """lambda and the learning rate for the iteration that follows ``step`` completed ones."""
    p = progress(step, steps)
    return {"p": p, "lambda": lambda_max * lambda_schedule(p, gamma), "lr": lr_schedule(p, lr0, alpha, beta)}
