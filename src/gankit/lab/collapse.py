"""``collapse``: GANs oscillate and collapse onto few modes; the remedies spread them out.

Seed lectures 000 ("instability, collapse") and 003 (minibatch discrimination). For the ``ring`` and the
``grid`` toys, train the plain GAN and each remedy of :data:`gankit.lab.toytrain.REMEDIES` (the same config
switches ``gankit train`` takes) and keep samples of a fixed latent batch over training. Writes a still grid
per toy (rows: methods, columns: training time), an animated GIF (all methods, one frame per snapshot) and
the final mode metrics (PacGAN's definitions, :mod:`gankit.metrics.modes`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from gankit.data.toy import get_toy
from gankit.lab.registry import register_experiment
from gankit.lab.common import plt, savefig
from gankit.lab.toytrain import REMEDIES, ToyRun, generate, toy_config, train_toy
from gankit.metrics.modes import NUM_SAMPLES, toy_mode_metrics

TOYS = ("ring", "grid")
SNAPSHOTS = 8
LIMITS = {"ring": 1.6, "grid": 5.5}


def _scatter(ax, toy, x, title: str, lim: float) -> None:
    ax.scatter(toy.mode_means[:, 0], toy.mode_means[:, 1], s=30, marker="x", c="C3", lw=1, zorder=3, label="true modes")
    ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.35, c="C0", label="G(z) samples")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=6)


def _frame(fig) -> Image.Image:
    fig.canvas.draw()
    return Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())


@register_experiment("collapse", headline=("modes",), summary="samples over training: plain GAN vs the remedies")
def run(out: Path, quick: bool = False) -> dict:
    runs: dict[tuple[str, str], ToyRun] = {}
    metrics: dict[str, dict] = {}
    for name in TOYS:
        toy = get_toy(name)
        for method, overrides in REMEDIES.items():
            cfg = toy_config(name, overrides + (["train.steps=8"] if quick else []))
            every = cfg.train.steps // (2 if quick else SNAPSHOTS)
            run_ = train_toy(cfg, snapshot_every=every, snapshot_n=300 if quick else 1000, progress=False)
            runs[name, method] = run_
            metrics.setdefault(name, {})[method] = toy_mode_metrics(generate(run_.method, NUM_SAMPLES, seed=0), toy) | {
                "seconds": run_.seconds
            }
    pyplot = plt()
    figures = []
    methods = list(REMEDIES)
    for name in TOYS:  # still grid: rows = methods, columns = snapshots
        toy = get_toy(name)
        cols = max(len(runs[name, m].snapshots) for m in methods)
        fig, axes = pyplot.subplots(len(methods), cols, figsize=(1.7 * cols, 1.8 * len(methods)), squeeze=False)
        for r, m in enumerate(methods):
            snaps = runs[name, m].snapshots
            for c in range(cols):
                ax = axes[r, c]
                if c >= len(snaps):
                    ax.axis("off")
                    continue
                step, x = snaps[c]
                _scatter(ax, toy, x.numpy(), f"step {step}", LIMITS[name])
                if c == 0:
                    ax.set_ylabel(f"{m}\nx2", fontsize=7)
                if r == len(methods) - 1:
                    ax.set_xlabel("x1", fontsize=7)
        axes[0, 0].legend(fontsize=6, loc="lower left", markerscale=2)
        fig.suptitle(
            f"Mode collapse on the {name} ({toy.num_modes} modes): samples over training (x1, x2 in data units)",
            fontsize=10,
        )
        fig.tight_layout()
        figures.append(savefig(fig, out / f"collapse_{name}.png"))
    frames = []
    n_frames = max(len(r.snapshots) for r in runs.values())
    for i in range(n_frames):  # GIF: one frame per snapshot index, all toys and methods
        fig, axes = pyplot.subplots(
            len(TOYS), len(methods), figsize=(2.4 * len(methods), 2.9 * len(TOYS)), squeeze=False
        )
        for r, name in enumerate(TOYS):
            toy = get_toy(name)
            for c, m in enumerate(methods):
                snaps = runs[name, m].snapshots
                step, x = snaps[min(i, len(snaps) - 1)]
                _scatter(axes[r, c], toy, x.numpy(), f"{m}\nstep {step}", LIMITS[name])
                axes[r, c].set_xlabel("x1", fontsize=6)
                axes[r, c].set_ylabel("x2", fontsize=6)
        axes[0, 0].legend(fontsize=5, loc="lower left", markerscale=2)
        fig.suptitle(f"GAN training on ring and grid: plain GAN vs remedies (snapshot {i + 1}/{n_frames})", fontsize=9)
        fig.tight_layout()
        frames.append(_frame(fig))
        pyplot.close(fig)
    gif = out / "collapse.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=700, loop=0)
    figures.append(gif.name)
    headline = {name: {m: metrics[name][m]["modes"] for m in methods} for name in TOYS}
    return {"modes": headline, "metrics": metrics, "remedies": REMEDIES, "figures": figures}
