"""Learning-rate schedules: a factor of the base learning rate as a function of the step.

``optim.lr_schedule`` picks one; ``constant`` (the default) keeps today's behaviour. The decaying
schedules hold the base rate for the first ``optim.lr_decay_start`` fraction of ``train.steps`` and then
anneal it to ``optim.lr_final_factor`` times the base rate at the last step:

    constant:  f(t) = 1
    linear:    f(t) = 1 - (1 - f_T) p
    cosine:    f(t) = f_T + (1 - f_T) (1 + cos(pi p)) / 2      (Loshchilov & Hutter 2017, SGDR, one cycle)

with p = (t - t_0) / (T - t_0) clipped to [0, 1], t the generator steps taken, t_0 = lr_decay_start * T.
Annealing at the end of a GAN run shrinks the players' oscillation around the equilibrium, so the
generator's samples settle onto the modes instead of circling them (what the EMA of G does by averaging).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

SCHEDULES = ("constant", "linear", "cosine")


def lr_factor(schedule: str, step: int, total: int, decay_start: float = 0.0, final_factor: float = 0.0) -> float:
    """The multiplier of the base learning rate after ``step`` of ``total`` generator steps.

    Args:
        schedule: one of :data:`SCHEDULES`.
        step: generator steps taken so far (0 at the start).
        total: the run's generator steps T.
        decay_start: fraction of T during which the base rate is held.
        final_factor: the multiplier reached at step T.

    Returns:
        The factor f(t) of the module docstring.
    """
    if schedule == "constant":
        return 1.0
    t0 = decay_start * total
    p = min(1.0, max(0.0, (step - t0) / max(total - t0, 1e-12)))
    if schedule == "linear":
        return 1.0 - (1.0 - final_factor) * p
    if schedule == "cosine":
        return final_factor + (1.0 - final_factor) * 0.5 * (1.0 + math.cos(math.pi * p))
    raise ValueError(f"unknown learning-rate schedule '{schedule}' (known: {', '.join(SCHEDULES)})")


def build_schedulers(
    optim_cfg, total_steps: int, optimizers: Mapping[str, torch.optim.Optimizer]
) -> dict[str, torch.optim.lr_scheduler.LRScheduler]:
    """LambdaLR schedulers for ``optimizers`` following ``optim_cfg`` (none for the constant schedule).

    Each scheduler is stepped once per generator step, so D's rate follows the same clock as G's.
    """
    if optim_cfg.lr_schedule == "constant":
        return {}
    o = optim_cfg
    f = lambda t: lr_factor(o.lr_schedule, t, total_steps, o.lr_decay_start, o.lr_final_factor)  # noqa: E731
    return {k: torch.optim.lr_scheduler.LambdaLR(opt, f) for k, opt in optimizers.items()}
