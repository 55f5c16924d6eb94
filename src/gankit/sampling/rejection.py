"""Discriminator rejection sampling (DRS; Azadi, Olsson, Darrell, Goodfellow & Odena, ICLR 2019).

For the optimal discriminator of the cross-entropy GAN, D*(x) = p_data / (p_data + p_g), so its logit is
log p_data(x) / p_g(x). Rejection sampling from p_g with acceptance p_data / (M p_g) then draws exactly from
p_data; with the logit l(x) and its maximum l_M over the samples seen, that acceptance is exp(l(x) - l_M).
DRS makes it practical (the paper's eq. 8):

    F(x) = l(x) - l_M - log(1 - exp(l(x) - l_M - eps)) - gamma,        accept x with probability sigmoid(F(x))

which accepts exactly with probability exp(l - l_M) when gamma = 0 and l is far below l_M, and lets gamma
trade acceptance rate for fidelity (the paper sets gamma so that a chosen fraction of F values lies below it).
D is first calibrated: trained a few hundred more steps against the sampling generator (G's EMA when it is
kept) with G frozen, because the D of the last training step was trained against a slightly different G.

Only for losses whose D estimates log p_data / p_g through its logit (the cross-entropy losses: minimax,
non-saturating); written by hand because no library implements it for PyTorch GANs.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from gankit.errors import UserError
from gankit.losses.gan import d_bce
from gankit.nets.modes import eval_mode
from gankit.nets.pack import PackedDiscriminator

RATIO_LOSSES = ("minimax", "non-saturating")


def drs_scores(logits: torch.Tensor, max_logit: float | torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """F(x) + gamma = l - l_M - log(1 - exp(l - l_M - eps)); candidates above l_M are clamped to it."""
    d = (logits - max_logit).clamp(max=0.0)
    return d - torch.log1p(-torch.exp(d - eps))


def drs_accept_prob(
    logits: torch.Tensor, max_logit: float | torch.Tensor, gamma: float | torch.Tensor = 0.0, eps: float = 1e-6
) -> torch.Tensor:
    """DRS acceptance probabilities sigmoid(F(x)) for D's logits (Azadi et al. 2019, eq. 8).

    Args:
        logits: D's logits l(x) of candidate samples, any shape.
        max_logit: l_M, the largest logit seen (candidates above it are always accepted).
        gamma: the shift of F; larger rejects more.
        eps: keeps the log finite at l = l_M.
    """
    return torch.sigmoid(drs_scores(logits, max_logit, eps) - gamma)


def calibrate_discriminator(method, batches: Iterator, steps: int = 500, lr: float = 1e-4) -> None:
    """Train ``method.D`` ``steps`` more steps against samples of ``method.sample`` (G frozen), with the
    cross-entropy D loss and a fresh Adam, so that its logit estimates log p_data / p_g of the sampler."""
    opt = torch.optim.Adam(method.D.parameters(), lr=lr, betas=(0.5, 0.999))
    for _ in range(steps):
        x_real = next(batches)["x"].to(method.device)
        x_fake = method.sample(torch.randn(len(x_real), method.z_dim, device=method.device))
        loss = d_bce(method.D(x_real), method.D(x_fake))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


@torch.no_grad()
def rejection_sample(
    method,
    n: int,
    *,
    seed: int = 0,
    keep_quantile: float | None = None,
    burn_in: int = 10_000,
    batch: int = 4096,
    max_rounds: int = 1000,
) -> tuple[torch.Tensor, float]:
    """``n`` samples of a GAN filtered by DRS, and the acceptance rate.

    Args:
        method: a trained :class:`gankit.methods.gan.GAN` (cross-entropy loss, D not packed).
        n: samples to return.
        seed: seeds the latents and the accept/reject draws.
        keep_quantile: None: gamma = 0 (the exact-ratio rule); q in (0, 1): gamma is the q-quantile of
            F(x) + gamma over the burn-in samples (the paper's practical setting; larger q rejects more).
        burn_in: samples used to estimate l_M (and gamma).
        batch: candidates drawn per round.

    Raises:
        UserError: for a loss whose D does not estimate the density ratio, or a packed D.
    """
    if getattr(method.loss, "d", None) is not d_bce:
        raise UserError(f"rejection sampling needs gan.loss in {RATIO_LOSSES}: only their D estimates log p_data/p_g")
    if isinstance(method.D, PackedDiscriminator):
        raise UserError("rejection sampling scores single samples: it does not work with gan.pack > 1")
    gen = torch.Generator().manual_seed(seed)
    with eval_mode(method.D):  # D scores single samples: batch statistics would make it score batches

        def candidates(m: int) -> tuple[torch.Tensor, torch.Tensor]:
            x = method.sample(torch.randn(m, method.z_dim, generator=gen).to(method.device))
            return x, method.D(x).reshape(-1).float().cpu()

        _, burn_logits = candidates(burn_in)
        max_logit = burn_logits.max()
        gamma = 0.0 if keep_quantile is None else torch.quantile(drs_scores(burn_logits, max_logit), keep_quantile)
        kept, drawn, total = [], 0, 0
        for _ in range(max_rounds):
            x, logits = candidates(batch)
            max_logit = torch.maximum(max_logit, logits.max())  # l_M: the largest logit seen so far
            accept = torch.rand(len(x), generator=gen) < drs_accept_prob(logits, max_logit, gamma)
            kept.append(x[accept.to(x.device)].cpu())
            drawn, total = drawn + len(x), total + int(accept.sum())
            if total >= n:
                break
    if total < n:
        raise RuntimeError(f"rejection sampling kept only {total} of {drawn} candidates; lower keep_quantile")
    return torch.cat(kept)[:n], total / drawn
