"""The figures of ``gankit adapt`` (matplotlib, Agg backend).

domain_error.png      the domain classifier's error over training: DANN's unsupervised tuning
                      signal (Ganin et al. 2016, sec. 5.1), near 0.5 when the features are
                      domain-invariant; beside it source_only's, whose domain classifier only watches
target_accuracy.png   target test accuracy over training for every trained method
features.png          PCA (or t-SNE) of the penultimate features of source and target items,
                      without (source_only) and with (dann) adaptation
decision_boundary.png for 2-D data: the label predictor's boundary with source and target points
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from gankit.data.domains import DomainPair
    from gankit.methods.dann import FitResult

COLOURS = {"source_only": "tab:blue", "dann": "tab:red", "target_only": "tab:green"}
LABELS = {"source_only": "source only", "dann": "DANN", "target_only": "target only"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _curves(runs: list[FitResult], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values seeds x steps) of one logged key, over the seeds of one method."""
    rows = [[(h["step"], h[key]) for h in r.history if key in h] for r in runs]
    steps = np.array([s for s, _ in rows[0]])
    return steps, np.array([[v for _, v in row] for row in rows])


def _plot_curves(ax, runs: dict[str, list[FitResult]], key: str) -> None:
    for method, rs in runs.items():
        if not rs or not any(key in h for h in rs[0].history):
            continue
        steps, values = _curves(rs, key)
        for v in values:  # every seed, thin
            ax.plot(steps, v, color=COLOURS[method], alpha=0.25, lw=0.8)
        ax.plot(steps, values.mean(0), color=COLOURS[method], lw=2, label=f"{LABELS[method]} (mean of {len(rs)} seeds)")


def domain_error_figure(path: Path, runs: dict[str, list[FitResult]], title: str) -> Path:
    """The domain classifier's error over training per method (mean and spread over seeds)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4))
    _plot_curves(ax, {m: r for m, r in runs.items() if m != "target_only"}, "domain_error")
    ax.axhline(0.5, color="gray", ls="--", lw=1, label="chance (0.5)")
    ax.set(
        xlabel="training step",
        ylabel="domain classifier error (fraction of a batch)",
        title=f"Domain classifier error: {title}",
        ylim=(-0.02, 0.7),
    )
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def target_accuracy_figure(path: Path, runs: dict[str, list[FitResult]], title: str) -> Path:
    """Target test accuracy over training per method (mean and spread over seeds)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4))
    _plot_curves(ax, runs, "target_acc")
    ax.set(
        xlabel="training step",
        ylabel="target test accuracy (fraction)",
        title=f"Target accuracy: {title}",
        ylim=(0, 1.02),
    )
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _project(f_s: np.ndarray, f_t: np.ndarray, how: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    both = np.concatenate([f_s, f_t])
    if how == "tsne":
        from sklearn.manifold import TSNE

        z = TSNE(2, init="pca", random_state=seed, perplexity=30).fit_transform(both)
    else:
        from sklearn.decomposition import PCA

        z = PCA(2, random_state=seed).fit_transform(both)  # one projection for both domains
    return z[: len(f_s)], z[len(f_s) :]


def features_figure(
    path: Path, pair: DomainPair, runs: dict[str, list[FitResult]], how: str = "pca", n: int = 500
) -> Path:
    """Source vs target penultimate features without and with adaptation (seed 0's networks)."""
    plt = _plt()
    g = torch.Generator().manual_seed(0)
    i_s = torch.randperm(len(pair.source), generator=g)[:n]
    i_t = torch.randperm(len(pair.target_test), generator=g)[:n]
    shown = [m for m in ("source_only", "dann") if runs.get(m)]
    fig, axes = plt.subplots(1, len(shown), figsize=(5.2 * len(shown), 4.6), squeeze=False)
    for ax, method in zip(axes[0], shown):
        nets = runs[method][0].nets
        dev = next(iter(nets.parameters())).device
        f_s = nets.embed(pair.source.x[i_s].to(dev)).cpu().numpy()
        f_t = nets.embed(pair.target_test.x[i_t].to(dev)).cpu().numpy()
        z_s, z_t = _project(f_s, f_t, how)
        ax.scatter(z_s[:, 0], z_s[:, 1], s=5, c="tab:blue", alpha=0.5, label="source")
        ax.scatter(z_t[:, 0], z_t[:, 1], s=5, c="tab:red", alpha=0.5, label="target")
        what = "without adaptation (source only)" if method == "source_only" else "with adaptation (DANN)"
        unit = "PCA component (a.u.)" if how == "pca" else "t-SNE dimension (a.u.)"
        ax.set(title=f"Features {what}", xlabel=f"{unit} 1", ylabel=f"{unit} 2")
        ax.legend(loc="best", fontsize=8, markerscale=3)
    fig.suptitle(f"Penultimate features, {pair.name} ({how.upper()}, {n} items per domain)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def decision_boundary_figure(path: Path, pair: DomainPair, runs: dict[str, list[FitResult]]) -> Path:
    """For 2-D data: the predicted class over the plane, source points (o) and target test points (x)."""
    plt = _plt()
    shown = [m for m in ("source_only", "dann") if runs.get(m)]
    assert pair.source.y is not None and pair.target_test.y is not None  # domain pairs are labelled
    xs, ys = pair.source.x.numpy(), pair.source.y.numpy()
    xt, yt = pair.target_test.x.numpy()[:300], pair.target_test.y.numpy()[:300]
    pts = np.concatenate([xs, xt])
    lo, hi = pts.min(0) - 0.5, pts.max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)
    fig, axes = plt.subplots(1, len(shown), figsize=(5.4 * len(shown), 4.6), squeeze=False)
    for ax, method in zip(axes[0], shown):
        r = runs[method][0]
        dev = next(iter(r.nets.parameters())).device
        pred = r.nets.predict(grid.to(dev)).cpu().numpy().reshape(gx.shape)
        ax.contourf(gx, gy, pred, levels=[-0.5, 0.5, 1.5], colors=["#cfe2f3", "#f4cccc"], alpha=0.8)
        ax.contour(gx, gy, pred, levels=[0.5], colors="k", linewidths=1.5)
        for c, col in ((0, "tab:blue"), (1, "tab:red")):
            ax.scatter(*xs[ys == c].T, s=12, c=col, marker="o", edgecolors="none", label=f"source, class {c}")
            ax.scatter(*xt[yt == c].T, s=14, c=col, marker="x", linewidths=0.8, label=f"target, class {c}")
        acc = r.target_acc
        ax.set(
            title=f"{LABELS[method]}: target accuracy {acc:.3f}",
            xlabel="x1 (a.u.)",
            ylabel="x2 (a.u.)",
            xlim=(lo[0], hi[0]),
            ylim=(lo[1], hi[1]),
        )
        ax.legend(loc="upper left", fontsize=7)
    fig.suptitle(f"Decision boundary (black line), {pair.name}, seed 0")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def make_figures(
    out: Path, pair: DomainPair, runs: dict[str, list[FitResult]], feature_plot: str = "pca"
) -> list[Path]:
    """Every figure that the trained runs allow (features by ``feature_plot``: pca or tsne); returns their paths."""
    title = pair.name
    paths = []
    if any(runs.get(m) for m in ("source_only", "dann")):
        paths.append(domain_error_figure(out / "domain_error.png", runs, title))
        paths.append(features_figure(out / "features.png", pair, runs, feature_plot))
    if runs:
        paths.append(target_accuracy_figure(out / "target_accuracy.png", runs, title))
    if not pair.is_image and pair.shape == (2,) and any(runs.get(m) for m in ("source_only", "dann")):
        paths.append(decision_boundary_figure(out / "decision_boundary.png", pair, runs))
    return paths
