"""Scores of a trained next-frame predictor on its dataset's test split: the one place that reads it
(:mod:`gankit.methods.nextframe` trains and validates on the training split only).

    >>> from gankit.next_frame import test_scores
    >>> test_scores("runs/nextframe-mse")          # doctest: +SKIP
    {'psnr': [21.3, ...], 'ssim': [...], 'sharpness': [...], 'horizons': 6, 'sequences': 500, 'step': 2000}

Call it once per final run, after every hyperparameter was chosen on the validation scores.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.data import load_dataset
from gankit.errors import UserError
from gankit.train.checkpoint import load_checkpoint
from gankit.train.restore import load_method


def test_scores(run_dir: str | Path, horizon: int | None = None, device: str = "cpu") -> dict:
    """PSNR, SSIM and sharpness difference per horizon t+1..t+K of a ``nextframe`` run's newest checkpoint.

    Args:
        run_dir: the run directory.
        horizon: K (default: the run's ``nextframe.horizon``; at most the frames after the context).
        device: where to predict.

    Returns:
        ``psnr``, ``ssim``, ``sharpness`` (K values each, means over the test sequences), ``horizons``,
        ``sequences`` and the checkpoint's ``step``.
    """
    method, cfg = load_method(run_dir, device)
    if cfg.method != "nextframe":
        raise UserError(f"{run_dir}: a {cfg.method} run; next-frame scores are for method nextframe")
    d = cfg.data
    test = load_dataset(d.name, split="test", root=d.root, img_size=d.img_size, channels=d.channels)
    frames = test.x.shape[1]
    horizon = horizon or cfg.nextframe.horizon
    if method.k + horizon > frames:
        raise UserError(f"horizon={horizon}: the test sequences have {frames} frames, {method.k} of them context")
    scores = method.score(test.x, horizon)
    return {**scores, "horizons": horizon, "sequences": len(test), "step": load_checkpoint(run_dir).step}


def draw_futures(run_dir: str | Path, seqs: torch.Tensor, samples: int, horizon: int, device: str = "cpu"):
    """``samples`` rollouts of each sequence (seeds 0, 1, ...): samples x N x K x C x H x W, for figures."""
    method, _ = load_method(run_dir, device)
    return torch.stack([method.rollout(seqs, horizon, seed=s) for s in range(samples)])
