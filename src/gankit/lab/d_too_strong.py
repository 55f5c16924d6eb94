"""``d-too-strong``: when D wins early, log(1 - D(G(z))) saturates and G barely learns; the lecture's remedies.

Seed lecture slide: "reduce capacity of discriminator; make fewer updates to discriminator, or have lower
learning rate; provide additional losses to generator" (and the non-saturating loss -log D(G(z)), Goodfellow
et al. 2014, Sec. 3, for reference). The GAN is ``gankit train``'s (:func:`gankit.lab.toytrain.toy_config`:
MLPs of width 128, Adam with betas (0.5, 0.999), batch 128) on the ``ring`` (8 modes on the unit circle).

The set-up that makes D win (the baseline, saturating loss ``gan.loss=minimax``), and why each piece:

- a head start: G is frozen for the first 3000 iterations (:data:`FULL`) while D trains (as D does against a
  fixed G in the ``saturation`` experiment), so mean D(G(z)) is ~1e-7 when G takes its first step;
- D's learning rate 100x G's (``optim.d_lr=1e-2``, ``optim.g_lr=1e-4``): D keeps winning once G moves;
- ``model.data_scale=0.25``: G emits 0.25 x its output and D sees x / 0.25, so G's first samples are a tight
  blob at the origin (radius ~0.1), well inside the ring. With the default scale G's first samples have a
  tail towards the ring that D rejects far less surely (D(G(z)) ~0.1-0.8 against ~1e-7 for the bulk), and
  the saturating G learns from those few (measured: 7 of 8 modes after the same head start, G at 1e-3).

Why it takes that much: G trains with Adam, which divides each gradient by its running RMS, so a gradient 1e6
times smaller moves G nearly as far (until it falls below Adam's eps, 1e-8 per parameter). The saturation alone
does not stop G: with a milder set-up the saturating GAN on the ring learns (slowly, from few samples). Here D,
100x faster, re-rejects G's samples as they move, and a stuck G keeps a gradient of 1e-6 to 1e-3 while its
samples stay in the blob. It is a race, though, and some seeds escape: the full run uses 3 seeds
(:data:`SEEDS`) and reports each.

The arms change one switch each, in every iteration including the head start (a G "frozen for the first H
iterations" is the same clock for every arm): ``model.d_width=8`` (vs 128); one D update every
:data:`EVERY_N` G steps (gankit's ``gan.d_steps`` is k D steps per G step, the other direction, so this loop
calls ``d_step`` only every n-th iteration); ``optim.d_lr=1e-4`` (= G's); ``gan.feature_matching=1`` (Salimans
et al. 2016, added to the saturating loss); ``gan.loss=non-saturating``.

Numbers per arm and seed: ``early_grad``, the geometric mean over G's first 50 steps (``n_early``) of
||d J_G / d theta_G|| (J_G: the arm's whole G loss, feature matching included) on a fixed batch; ``ratio``, an
arm's ``early_grad`` over the baseline's (same seed). The trace runs 200 steps (``n_grad``); over all of them
the ratios are smaller (``ratio_min_all_traced``), since an escaping baseline's gradient recovers near step 80, and
at G's very first step they are ``ratio_min_first_step``. Whether G learns: the median distance of G's samples
to their nearest ring mode (data units) at the end is at most half what it was at G's first step
(:func:`learned`), with PacGAN's modes / high-quality fraction (:mod:`gankit.metrics.modes`) beside it. An arm
learns when it does in most seeds. Headline: ``min_ratio`` (the smallest ratio over the four remedies and the
seeds) and ``remedies_learning`` (how many of the four let G learn; the baseline's verdict is ``baseline_learns``).
``--quick`` (:data:`QUICK`: head start 1500, 300 G steps, seed 0) shows the gradients; G has little time to learn.
"""

from __future__ import annotations

import math
import time
from typing import Any
from pathlib import Path

import numpy as np
import torch

from gankit.data import load_dataset
from gankit.data.toy import get_toy
from gankit.lab.common import plt, savefig
from gankit.lab.registry import register_experiment
from gankit.lab.toytrain import toy_config
from gankit.methods import build_method
from gankit.methods.gan import GAN, d_step, g_step
from gankit.metrics.modes import NUM_SAMPLES, assign_modes, toy_mode_metrics
from gankit.train.context import TrainContext

TOY = "ring"
# The D-wins set-up (module docstring), on top of the toy defaults.
BASE = ["gan.loss=minimax", "optim.d_lr=1e-2", "optim.g_lr=1e-4", "model.data_scale=0.25"]
EVERY_N = 5  # the fewer-D-updates arm: one D update every n iterations
# label -> (config overrides on top of BASE, one D update every n iterations)
ARMS: dict[str, tuple[list[str], int]] = {
    "saturating baseline": ([], 1),
    "smaller D (width 8)": (["model.d_width=8"], 1),
    f"fewer D updates (1 per {EVERY_N} G)": ([], EVERY_N),
    "lower D lr (1e-4)": (["optim.d_lr=1e-4"], 1),
    "feature matching": (["gan.feature_matching=1"], 1),
    "non-saturating (reference)": (["gan.loss=non-saturating"], 1),
}
BASELINE = "saturating baseline"
REFERENCE = "non-saturating (reference)"
REMEDIES = [a for a in ARMS if a not in (BASELINE, REFERENCE)]
SEEDS = (0, 1, 2)
# D's head start (iterations), G steps, G steps whose gradient norm is traced, and the "early steps" summarised.
FULL: dict[str, Any] = {"head": 3000, "steps": 2500, "n_grad": 200, "n_early": 50, "seeds": SEEDS}
QUICK: dict[str, Any] = {"head": 1500, "steps": 300, "n_grad": 50, "n_early": 50, "seeds": (0,)}
EVALS = 10  # distance-to-data checks over G's steps (and one at its first step)


def g_grad_norm(method, z: torch.Tensor, x_real: torch.Tensor) -> float:
    """||d J_G / d theta_G|| of the method's whole generator loss (adversarial + tricks' terms) at ``z``.

    J_G is what :func:`gankit.methods.gan.g_step` descends: ``loss.g`` on D's logits plus the tricks'
    G regulariser (feature matching). D is frozen, and no ``.grad`` is touched, so training is unaffected.
    For the saturating loss d/dl log(1 - sigmoid(l)) = -sigmoid(l) (vanishes as D wins, l -> -inf); for the
    non-saturating one d/dl [-log sigmoid(l)] = -(1 - sigmoid(l)) (tends to -1).
    """
    G, D, tricks = method.G, method.D, method.tricks
    D.requires_grad_(False)
    try:
        x_fake = G(z)
        fake_logits = D(tricks.d_input(x_fake))
        real_logits = D(tricks.d_input(x_real)) if method.loss.g_uses_real else None
        reg, _ = tricks.g_regulariser(G, D, x_real, x_fake)
        grads = torch.autograd.grad(method.loss.g(fake_logits, real_logits) + reg, list(G.parameters()))
    finally:
        D.requires_grad_(True)
    return math.sqrt(sum(float(g.double().square().sum()) for g in grads))


def _geomean(values) -> float:
    return float(np.exp(np.mean(np.log(np.maximum(values, 1e-30)))))


def distance_to_data(x: torch.Tensor, toy) -> float:
    """Median distance (data units) of samples to their nearest mode of ``toy``."""
    k, d = assign_modes(x, toy.mode_means, toy.mode_stds)  # d in standard deviations of mode k
    return float((d * torch.as_tensor(toy.mode_stds, dtype=torch.float64)[k]).median())


def learned(dist_start: float, dist_end: float) -> bool:
    """G learns when its samples end at most half as far from the data as at its first step."""
    return dist_end <= 0.5 * dist_start


def train_arm(overrides: list[str], every: int, seed: int, *, head: int, steps: int, n_grad: int, n_early: int) -> dict:
    """One arm: D's head start, then ``steps`` G steps; the early gradient trace and distance to the data.

    Iteration t updates D when t % every == 0 and G when t >= head. With every == 1 a G-phase iteration is
    ``method.step()`` itself (one d_step, one g_step, as ``gankit train``); otherwise the same two calls
    with the D step skipped when it is not due.
    """
    toy, data = get_toy(TOY), load_dataset(TOY)
    cfg = toy_config(TOY, BASE + overrides + [f"train.steps={steps}", f"train.seed={seed}"])
    torch.manual_seed(seed)
    m = build_method(cfg, data.spec, torch.device("cpu"))
    assert isinstance(m, GAN)  # the arms drive the GAN's own d_step / g_step
    m.setup(TrainContext.for_data(data, cfg.train.batch_size, steps, seed))
    gen = torch.Generator().manual_seed(seed + 1)
    z_grad = torch.randn(1024, m.z_dim, generator=gen)  # fixed batches for the gradient norm
    x_grad = data.x[torch.randint(len(data.x), (1024,), generator=gen)]
    z_eval = torch.randn(NUM_SAMPLES, m.z_dim, generator=gen)  # fixed latents for the distance to the data
    grad, d_fake, dist = [], [], []
    eval_every = max(steps // EVALS, 1)
    start = time.monotonic()
    for t in range(head + steps):
        s = t - head  # G's step; negative during the head start
        if s >= 0 and s % eval_every == 0:
            dist.append((s, distance_to_data(m.sample(z_eval), toy)))
        if 0 <= s < n_grad:
            grad.append(g_grad_norm(m, z_grad, x_grad))
            with torch.no_grad():
                d_fake.append(float(torch.sigmoid(m.D(m.G(z_grad))).mean()))
        if s >= 0 and every == 1:
            m.step()
            continue
        x_real = m.real()
        if t % every == 0:
            d_step(m.G, m.D, m.opt_D, m.loss, x_real, m.noise(len(x_real)), m.tricks)
        if s >= 0:
            g_step(m.G, m.D, m.opt_G, m.loss, m.noise(len(x_real)), x_real, m.tricks)
    x_end = m.sample(z_eval)
    dist.append((steps, distance_to_data(x_end, toy)))
    return {
        "early_grad": _geomean(grad[:n_early]),  # the first n_early G steps
        "grad_all": _geomean(grad),  # the first n_grad G steps
        "grad_first": grad[0],
        "d_fake_first": d_fake[0],  # mean D(G(z)) at G's first step: how far D has won
        "dist_start": dist[0][1],
        "dist_end": dist[-1][1],
        "learns": learned(dist[0][1], dist[-1][1]),
        **toy_mode_metrics(x_end, toy),
        "seconds": time.monotonic() - start,
        "grad_trace": grad,
        "d_fake_trace": d_fake,
        "dist_trace": dist,
        "samples": x_end[:1000].tolist(),
    }


def summarise(runs: dict[str, list[dict]]) -> dict:
    """Per-arm numbers over seeds (ratios against the baseline of the same seed) and the headline."""
    base = runs[BASELINE]
    arms = {}
    for arm, rs in runs.items():
        ratios = [r["early_grad"] / b["early_grad"] for r, b in zip(rs, base)]
        arms[arm] = {
            "overrides": BASE + ARMS[arm][0],
            "d_update_every": ARMS[arm][1],
            "ratio_min": min(ratios),  # over seeds
            "ratio_median": float(np.median(ratios)),
            "ratio_min_first_step": min(r["grad_first"] / b["grad_first"] for r, b in zip(rs, base)),
            "ratio_min_all_traced": min(r["grad_all"] / b["grad_all"] for r, b in zip(rs, base)),
            "grad_trace_median": np.median([r["grad_trace"] for r in rs], 0).tolist(),
            "learned_seeds": sum(r["learns"] for r in rs),
            "learns": 2 * sum(r["learns"] for r in rs) > len(rs),  # in most seeds
            "per_seed": [
                {k: v for k, v in r.items() if not k.endswith("_trace") and k != "samples"} | {"ratio": q}
                for r, q in zip(rs, ratios)
            ],
        }
    return {
        "min_ratio": min(arms[a]["ratio_min"] for a in REMEDIES),
        "remedies_learning": sum(arms[a]["learns"] for a in REMEDIES),
        "baseline_learns": arms[BASELINE]["learns"],
        "remedies_10x": sum(arms[a]["ratio_min"] >= 10 for a in REMEDIES),
        "arms": arms,
    }


def _grad_panel(ax, runs: dict[str, list[dict]], colours: dict, summary: dict, setup: dict) -> None:
    """The early gradient norm per arm: median over seeds (bold) and each seed (faint), log scale."""
    for arm, rs in runs.items():
        traces = np.array([r["grad_trace"] for r in rs])  # [seeds, n_grad]
        steps = np.arange(traces.shape[1])
        ax.semilogy(steps, np.median(traces, 0), color=colours[arm], lw=1.8, label=arm)
        if len(rs) > 1:
            ax.semilogy(steps, traces.T, color=colours[arm], lw=0.6, alpha=0.3)
    # Some seeds dip for a step or two (G overshoots and D catches up): keep the axis on the medians' range.
    medians = [np.median([r["grad_trace"] for r in rs], 0) for rs in runs.values()]
    ax.set_ylim(min(m.min() for m in medians) / 10, max(m.max() for m in medians) * 10)
    if setup["n_early"] < setup["n_grad"]:
        ax.axvspan(0, setup["n_early"] - 1, color="0.92", zorder=0, label=f"'early steps' (first {setup['n_early']})")
    seeds = len(next(iter(runs.values())))
    spread = f" (bold: median of {seeds} seeds, faint: each seed)" if seeds > 1 else ""
    ax.set_title(f"Gradient reaching G over its first {setup['n_grad']} steps{spread}", fontsize=10)
    ax.set_xlabel(f"G step (after D's head start of {setup['head']} iterations)")
    ax.set_ylabel(r"$\|\nabla_{\theta_G} J_G\|$ (log scale)")
    ax.legend(fontsize=8, loc="lower right", framealpha=0.95)
    text = f"smallest remedy / baseline ratio, first {setup['n_early']} steps: {summary['min_ratio']:.3g}x"
    ax.text(0.01, 0.02, text, transform=ax.transAxes, va="bottom", fontsize=9)


def _distance_panel(ax, runs: dict[str, list[dict]], colours: dict) -> None:
    """G's median distance to the data over training: median over seeds with the min-max band."""
    for arm, rs in runs.items():
        steps = [s for s, _ in rs[0]["dist_trace"]]
        dist = np.array([[d for _, d in r["dist_trace"]] for r in rs])  # [seeds, checks]
        ax.plot(steps, np.median(dist, 0), "o-", ms=3, color=colours[arm])
        if len(rs) > 1:
            ax.fill_between(steps, dist.min(0), dist.max(0), color=colours[arm], alpha=0.12, lw=0)
    start = np.median([r["dist_start"] for r in runs[BASELINE]])
    ax.axhline(0.5 * start, color="k", ls=":", lw=1, label="'G learns' below: half the distance at G's step 0")
    spread = "; dots: median, band: min-max over seeds" if len(runs[BASELINE]) > 1 else ""
    ax.set_title(f"Does G reach the data? (colours as on the left{spread})", fontsize=10)
    ax.set_xlabel("G step")
    ax.set_ylabel("median distance of G(z) to the nearest ring mode (data units)")
    ax.set_ylim(0, max(1.0, ax.get_ylim()[1]))
    ax.legend(fontsize=8, loc="upper right")


def _figure(runs: dict[str, list[dict]], summary: dict, out: Path, setup: dict, seeds: tuple[int, ...]) -> str:
    pyplot = plt()
    toy = get_toy(TOY)
    colours = {a: f"C{i}" for i, a in enumerate(ARMS)}
    fig = pyplot.figure(figsize=(15, 8.8))
    grid = fig.add_gridspec(2, len(ARMS), height_ratios=[1.35, 1])
    _grad_panel(fig.add_subplot(grid[0, :3]), runs, colours, summary, setup)
    _distance_panel(fig.add_subplot(grid[0, 3:]), runs, colours)
    # Samples of one seed: the one with the baseline's median outcome, so the row shows the typical baseline.
    ends = [r["dist_end"] for r in runs[BASELINE]]
    shown = int(np.argsort(ends)[len(ends) // 2])
    for c, (arm, rs) in enumerate(runs.items()):
        ax = fig.add_subplot(grid[1, c])
        x, r = np.array(rs[shown]["samples"]), rs[shown]
        ax.scatter(toy.mode_means[:, 0], toy.mode_means[:, 1], s=30, marker="x", c="C3", lw=1, zorder=3)
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.35, c=colours[arm])
        ax.set_xlim(-1.5, 1.5)
        ax.set_ylim(-1.5, 1.5)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=6)
        ax.set_xlabel("x1 (data units)", fontsize=7)
        if c == 0:
            ax.set_ylabel(f"final G(z), seed {seeds[shown]}\nx2 (data units)", fontsize=7)
        learns = summary["arms"][arm]["learned_seeds"]
        ax.set_title(
            f"{arm}\nG learns in {learns}/{len(rs)} seeds\nseed {seeds[shown]}: distance {r['dist_end']:.2f}, "
            f"{r['modes']:.0f}/8 modes, {100 * r['high_quality']:.0f}% HQ",
            fontsize=7,
        )
    fig.suptitle(
        "D too strong on the ring: the saturating GAN vs the remedies "
        "(x: true modes; HQ: samples within 3 std of a mode)",
        fontsize=11,
    )
    fig.tight_layout()
    return savefig(fig, out / "d_too_strong.png")


@register_experiment(
    "d-too-strong",
    headline=("min_ratio", "remedies_learning", "baseline_learns"),
    summary="D wins early: saturating G vs smaller D, fewer D updates, lower D lr, feature matching",
)
def run(out: Path, quick: bool = False, seeds: tuple[int, ...] | None = None) -> dict:
    setup = QUICK if quick else FULL
    seeds = tuple(seeds) if seeds is not None else setup["seeds"]
    lengths = {k: setup[k] for k in ("head", "steps", "n_grad", "n_early")}
    runs = {arm: [train_arm(ov, every, s, **lengths) for s in seeds] for arm, (ov, every) in ARMS.items()}
    summary = summarise(runs)
    figure = _figure(runs, summary, out, setup, seeds)
    return summary | {
        "data": TOY,
        "seeds": list(seeds),
        "head_start": setup["head"],
        "g_steps": setup["steps"],
        "n_grad": setup["n_grad"],
        "n_early": setup["n_early"],
        "figures": [figure],
    }
