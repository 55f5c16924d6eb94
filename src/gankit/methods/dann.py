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

:class:`DANN` is the method the training loop runs (``method: dann``), with the two bounds as variants;
``gankit adapt`` (:mod:`gankit.adapt`) trains each variant and seed through it and compares them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from gankit.config import Section
from gankit.data import DataSpec
from gankit.data.jitter import AffineJitter, jitter_images
from gankit.methods.registry import register_method
from gankit.metrics.scoring import register_direction
from gankit.nets.dann import DANNNets, dann_nets
from gankit.errors import UserError
from gankit.nets.grl import GradientReversal, grad_reverse  # noqa: F401  (re-exported: the layer is DANN's)
from gankit.previews import Preview

Sync = Callable[[Iterable[torch.nn.Parameter]], None]  # averages gradients over processes (TrainContext)


def _update(
    opt: torch.optim.Optimizer, loss: torch.Tensor, params: Iterable[torch.nn.Parameter], sync: Sync | None
) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if sync is not None:
        sync(params)
    opt.step()


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
    """Set the learning rate of every parameter group of ``opt`` (DANN's annealed schedule)."""
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
    sync: Sync | None = None,
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
        sync: called on the parameters between backward and the update (averages gradients over processes).

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
    _update(opt, label_loss + domain_loss, nets.parameters(), sync)
    with torch.no_grad():
        domain_error = ((d_logits > 0).float() != d).float().mean()
        label_acc = (logits.argmax(1) == y_s).float().mean()
    return {
        "label_loss": label_loss.detach(),
        "domain_loss": domain_loss.detach(),
        "domain_error": domain_error,
        "label_acc": label_acc,
    }


def source_only_step(
    nets: DANNNets,
    opt: torch.optim.Optimizer,
    x_s: torch.Tensor,
    y_s: torch.Tensor,
    x_t: torch.Tensor,
    sync: Sync | None = None,
) -> dict[str, torch.Tensor]:
    """One source-only step (the lower bound), with a domain classifier that only watches.

    G_f and G_y learn from the source labels alone (batch-norm statistics from source items only).
    G_d is then fitted on both domains' features as the network computes them at test time (eval
    mode, no gradient into G_f), so its error shows how far apart the domains stay without adaptation.

    Returns:
        0-dim tensors: ``label_loss``, ``label_acc``, ``domain_loss``, ``domain_error``.
    """
    stats = supervised_step(nets, opt, x_s, y_s, sync)
    nets.features.eval()
    with torch.no_grad():
        f = nets.features(torch.cat([x_s, x_t]))
    nets.features.train()
    d_logits = nets.domain(f)
    d = domain_labels(x_s.shape[0], x_t.shape[0], f.device)
    domain_loss = F.binary_cross_entropy_with_logits(d_logits, d)
    _update(opt, domain_loss, nets.domain.parameters(), sync)  # only G_d has gradients; SGD skips the others
    with torch.no_grad():
        domain_error = ((d_logits > 0).float() != d).float().mean()
    return stats | {"domain_loss": domain_loss.detach(), "domain_error": domain_error}


def supervised_step(
    nets: DANNNets, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, sync: Sync | None = None
) -> dict[str, torch.Tensor]:
    """One plain supervised step of G_f and G_y (the target-only upper bound)."""
    logits = nets.classifier(nets.features(x))
    loss = F.cross_entropy(logits, y)
    _update(opt, loss, nets.parameters(), sync)
    return {"label_loss": loss.detach(), "label_acc": (logits.argmax(1) == y).float().mean()}


def accuracy(nets: DANNNets, x: torch.Tensor, y: torch.Tensor) -> float:
    """Classification accuracy of ``nets`` on (x, y), in eval mode."""
    return float((nets.predict(x) == y.to(x.device)).float().mean())


def progress(step: int, steps: int) -> float:
    """Training progress p in [0, 1] after ``step`` of ``steps``."""
    return min(1.0, step / max(1, steps))


def schedule_state(
    step: int, steps: int, lr0: float, gamma: float, alpha: float, beta: float, lambda_max: float = 1.0
) -> dict[str, Any]:
    """lambda and the learning rate for the iteration that follows ``step`` completed ones."""
    p = progress(step, steps)
    return {"p": p, "lambda": lambda_max * lambda_schedule(p, gamma), "lr": lr_schedule(p, lr0, alpha, beta)}


# ----------------------------------------------------------------------------- the method


class DANNConfig(Section):
    """DANN and its bounds as a method (``method: dann``; ``data.name`` the source, ``data.target`` the target domain).

    ``train.batch_size`` is the whole batch: half labelled, half unlabelled target items. The defaults are
    those of the image pairs (conv features); ``dann-moons`` sets those of 2-D vectors.
    """

    variant: Literal["dann", "source_only", "target_only"] = "dann"  # the objective (module docstring of gankit.adapt)
    lr: float = Field(0.05, gt=0)  # mu_0 (the JMLR paper: 0.01 with batches of 128)
    momentum: float = Field(0.9, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    gamma: float = Field(10.0, ge=0)  # lambda_p = 2 / (1 + exp(-gamma p)) - 1
    lambda_max: float = Field(1.0, ge=0)  # scales lambda_p
    alpha: float = Field(10.0, ge=0)  # mu_p = mu_0 / (1 + alpha p)^beta
    beta: float = Field(0.75, ge=0)
    width: int = Field(16, gt=0)  # vectors: hidden units; images: channels of the first conv
    hidden: int = Field(100, gt=0)  # hidden units of the label and domain heads (images)
    domain_layers: int = Field(1, gt=0)  # hidden layers of the domain classifier (images)
    dropout: float = Field(0.1, ge=0, lt=1)  # channel dropout at the end of the image feature extractor
    bottleneck: int = Field(0, ge=0)  # > 0: a Linear+BN+ReLU layer of this width ends the image feature extractor
    separate_bn: bool = True  # pass source and target through G_f separately (per-domain batch statistics)
    augment: bool = False  # random affine jitter of the labelled source batch (gankit.data.jitter)
    aug_shift: float = Field(2.0, ge=0)  # pixels
    aug_rotate: float = Field(10.0, ge=0)  # degrees
    aug_scale: float = Field(0.1, ge=0, lt=1)
    aug_aspect: float = Field(0.1, ge=0, lt=1)
    aug_shear: float = Field(0.1, ge=0)

    def jitter(self) -> AffineJitter:
        """The source augmentation's bounds (the identity when ``augment`` is off)."""
        if not self.augment:
            return AffineJitter()
        return AffineJitter(self.aug_shift, self.aug_rotate, self.aug_scale, self.aug_aspect, self.aug_shear)


def check_dann(cfg) -> None:
    """Cross-section checks of a dann run config (a ValueError names the key)."""
    if cfg.data.target is None:
        raise ValueError("method dann: set data.target, the unlabelled domain (data.name is the labelled source)")
    if cfg.train.batch_size < 2 or cfg.train.batch_size % 2:
        raise ValueError(
            f"train.batch_size={cfg.train.batch_size}: DANN's batch is half source, half target; use an even size"
        )


class DANN:
    """G_f, G_y and G_d trained by SGD with the JMLR schedules on a labelled and an unlabelled stream.

    ``variant`` picks the objective: ``dann`` (:func:`dann_step`), ``source_only`` (:func:`source_only_step`,
    the lower bound) or ``target_only`` (:func:`supervised_step` on the target's labels, the upper bound).
    """

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        self.cfg, self.device = cfg.dann, device
        d = cfg.dann
        self.nets = dann_nets(
            spec.shape,
            spec.num_classes,
            width=d.width,
            hidden=d.hidden,
            domain_layers=d.domain_layers,
            dropout=d.dropout,
            bottleneck=d.bottleneck,
        ).to(device)
        self.opt = make_optimizer(self.nets, d.lr, d.momentum, d.weight_decay)
        self.modules, self.optimizers = self.nets.modules(), {"sgd": self.opt}
        self.images_per_step = cfg.train.batch_size
        self.total_steps, self.t = cfg.train.steps, 0  # t: steps taken, the clock of both schedules
        # Jitter the labelled source batch only: target items, labelled or not, stay as they are.
        self.jitter = d.jitter() if d.variant != "target_only" else AffineJitter()
        if d.augment and len(spec.shape) != 3:
            raise UserError(f"dann.augment=true: the affine jitter needs images, and the data holds {spec.kind}")
        self.aug_gen = torch.Generator().manual_seed(cfg.train.seed + 104_729)

    def setup(self, ctx) -> None:
        half = ctx.batch_size // 2
        self.labelled = ctx.stream("target" if self.cfg.variant == "target_only" else "source", half, name="labelled")
        self.unlabelled = ctx.stream("target", half, seed=ctx.seed + 7919, name="unlabelled")
        test = ctx.data.part("target_test")
        self.x_test, self.y_test = test.x.to(self.device), test.y.to(self.device)
        self.sync = ctx.average_gradients if ctx.world_size > 1 else None

    def step(self) -> dict[str, torch.Tensor]:
        d = self.cfg
        s = schedule_state(self.t, self.total_steps, d.lr, d.gamma, d.alpha, d.beta, d.lambda_max)
        set_lr(self.opt, s["lr"])
        batch = next(self.labelled)
        x, y = jitter_images(batch["x"], self.jitter, self.aug_gen), batch["y"]
        if d.variant == "target_only":
            stats = supervised_step(self.nets, self.opt, x, y, self.sync)
        elif d.variant == "source_only":
            stats = source_only_step(self.nets, self.opt, x, y, next(self.unlabelled)["x"], self.sync)
        else:
            stats = dann_step(
                self.nets, self.opt, x, y, next(self.unlabelled)["x"], s["lambda"], d.separate_bn, self.sync
            )
        self.t += 1
        lambd = s["lambda"] if d.variant == "dann" else 0.0
        return stats | {"lambda": torch.tensor(lambd), "lr": torch.tensor(s["lr"])}

    def evaluate(self) -> dict[str, float]:
        return {"target_acc": accuracy(self.nets, self.x_test, self.y_test)}

    def preview(self) -> Preview:
        """Target test items by predicted class: a scatter for 2-D data, else one image row per class."""
        # A fixed shuffle (its own generator: training's random stream is untouched), since test sets are
        # often sorted by class and the first items of a predicted class would then be its mistakes.
        order = torch.randperm(len(self.x_test), generator=torch.Generator().manual_seed(0))[:2000]
        x = self.x_test[order.to(self.x_test.device)]
        pred = self.nets.predict(x).cpu()
        if x.ndim == 2:
            return Preview("points", x.cpu(), labels=pred, title="target test items, coloured by predicted class")
        per_row = 8
        rows = []
        for k in range(self.nets.classifier.out.out_features):
            shown = x[pred == k][:per_row].cpu()
            blank = torch.ones(per_row - len(shown), *x.shape[1:])  # white cells where a class has fewer items
            rows.append(torch.cat([shown, blank]))
        return Preview("images", torch.cat(rows), nrow=per_row)

    def state_dict(self) -> dict[str, Any]:
        return {"t": self.t, "aug_gen": self.aug_gen.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t = int(state["t"])
        self.aug_gen.set_state(state["aug_gen"])


register_direction("target_acc", higher_is_better=True)

SMOKE = [
    "data.name=moons",
    "data.target=moons-rotated",
    "dann.width=8",
    "dann.separate_bn=false",
    "train.batch_size=16",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
    "eval.eval_every=4",
    "eval.best_metric=target_acc",
]


@register_method(
    "dann", sections={"dann": DANNConfig}, check=check_dann, smoke=SMOKE, label=lambda cfg: cfg.dann.variant
)
def build(cfg, spec: DataSpec, device: torch.device) -> DANN:
    """DANN or one of its baselines (``dann.variant``) for the domain pair of ``spec``."""
    return DANN(cfg, spec, device)
