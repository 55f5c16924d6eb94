"""Train a GAN on a toy distribution with gankit's own pieces, in memory and fast.

The lab and the mode-coverage benchmark use the very method the ``gankit train`` loop uses
(:func:`gankit.methods.build_method`, the GAN's ``step`` with its ``d_step``/``g_step`` and the remedies'
switches), set up by the same :class:`gankit.train.context.TrainContext`; only the run directory, logging
and checkpoints of :func:`gankit.train.train_run` are left out, since a toy run takes seconds and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm import tqdm

from gankit.config import RunConfig, apply_overrides, validate
from gankit.data import load_dataset
from gankit.methods import Method, build_method
from gankit.train.context import TrainContext

# The toy GAN: MLPs as in PacGAN's synthetic experiments in spirit (ReLU G, 2-D noise), but smaller so that
# a run takes seconds on a CPU. Adam with a larger learning rate than PacGAN's 1e-4 for the same reason.
TOY_DEFAULTS: dict = {
    "method": "gan",
    "model": {"arch": "mlp", "z_dim": 2, "g_width": 128, "d_width": 128, "depth": 2},
    "gan": {"loss": "non-saturating"},
    "optim": {"g_lr": 1e-3, "d_lr": 1e-3, "betas": [0.5, 0.999]},
    "train": {"steps": 3000, "batch_size": 128, "device": "cpu"},
}


# The remedies for collapse as config overrides (the same switches `gankit train` takes). Steps differ so
# that each costs about the same CPU time: an unrolled step costs ~K+1 D passes with second-order terms,
# and PacGAN keeps PacGAN's convention of batch_size packs, i.e. batch_size * m samples per step.
REMEDIES: dict[str, list[str]] = {
    "GAN": ["train.steps=2000"],
    "GAN + minibatch discrimination": ["model.minibatch_kernels=8", "model.minibatch_kernel_dim=3", "train.steps=900"],
    "PacGAN2": ["gan.pack=2", "train.batch_size=256", "train.steps=1600"],
    "PacGAN4": ["gan.pack=4", "train.batch_size=512", "train.steps=1200"],
    "Unrolled GAN (5 steps)": ["gan.unrolled_steps=5", "train.steps=300"],
}


def toy_config(data: str, overrides: list[str] | None = None) -> RunConfig:
    """A run config for a toy dataset: :data:`TOY_DEFAULTS` with ``data.name`` and ``KEY=VALUE`` overrides."""
    base = apply_overrides(TOY_DEFAULTS, [f"data.name={data}"])
    return validate(apply_overrides(base, overrides or []), f"toy config for {data}")


@dataclass
class ToyRun:
    method: Method
    snapshots: list[tuple[int, torch.Tensor]] = field(default_factory=list)  # (step, samples of the fixed z)
    seconds: float = 0.0


def train_toy(cfg: RunConfig, *, snapshot_every: int = 0, snapshot_n: int = 1000, progress: bool = False) -> ToyRun:
    """Train ``cfg`` (a toy config) for ``cfg.train.steps`` GAN iterations; no files are written.

    Args:
        cfg: the run config (``data.name`` a toy, ``train.seed`` seeds nets, noise and batches).
        snapshot_every: keep samples of a fixed latent batch every this many steps (0: only at the end).
        snapshot_n: samples per snapshot.
        progress: show a tqdm bar.

    Returns:
        A :class:`ToyRun` with the trained method and the snapshots.
    """
    import time

    data = load_dataset(cfg.data.name, split=cfg.data.split)
    torch.manual_seed(cfg.train.seed)
    device = torch.device(cfg.train.device if cfg.train.device != "auto" else "cpu")
    method: Any = build_method(cfg, data.spec, device)  # a method that also generates (z_dim, sample)
    method.setup(TrainContext.for_data(data, cfg.train.batch_size, cfg.train.steps, cfg.train.seed, device))
    z_fixed = torch.randn(snapshot_n, method.z_dim, generator=torch.Generator().manual_seed(cfg.train.seed + 12345))
    run = ToyRun(method)
    start = time.monotonic()
    for step in tqdm(range(1, cfg.train.steps + 1), disable=not progress, desc=f"{cfg.data.name}", leave=False):
        method.step()
        if snapshot_every and (step % snapshot_every == 0 or step == 1):
            run.snapshots.append((step, method.sample(z_fixed).cpu()))
    run.seconds = time.monotonic() - start
    if not run.snapshots or run.snapshots[-1][0] != cfg.train.steps:
        run.snapshots.append((cfg.train.steps, method.sample(z_fixed).cpu()))
    return run


def generate(method: Any, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` samples of a trained method (or a :class:`gankit.methods.gmm.GMMGenerator`), reproducible by ``seed``."""
    z = torch.randn(n, method.z_dim, generator=torch.Generator().manual_seed(seed))
    return torch.cat([method.sample(zb) for zb in z.split(1024)]).cpu()
