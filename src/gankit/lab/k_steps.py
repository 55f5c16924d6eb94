"""``k-steps``: k discriminator steps per generator step -- what k buys, and what it costs.

Goodfellow et al. 2014, Algorithm 1: "for k steps do ... update the discriminator", then one G step; the k steps
keep D "near its optimal solution, so long as G changes slowly enough" (Sec. 3); the paper used k = 1, "the
least expensive option" (Algorithm 1). On the 1-D toy ``mog-1d`` (density known in closed form) we train the GAN of
``gankit train`` (:func:`gankit.lab.toytrain.toy_config`: its nets, Adam 1e-3 for G and D, batch 128) with
``gan.d_steps`` k = 1, 2, 5, and the unrolled GAN (``gan.unrolled_steps=5``, one D step) for contrast.

What k buys: a D nearer the optimal D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Prop. 1) for the G it faces.
p_g is a Gaussian kernel density estimate of 10,000 samples of G (bandwidth :data:`BANDWIDTH`, fixed, in data
units); ``d_gap`` = E|D(x) - D*(x)| for x ~ (p_data + p_g)/2, by quadrature on :data:`GRID`. A G closer to
p_data moves D* towards 1/2 and so shrinks the gap by itself; ``relative_gap`` divides by E|D*(x) - 1/2|, the
gap of the know-nothing D = 1/2, to tell "D is closer to D*" from "D* is closer to 1/2". The contrast regime
``slow G`` (``optim.g_lr=1e-4``, D still at 1e-3) is Goodfellow's proviso: a G that moves slowly.
What k costs: a G step takes about k + 1 network updates of time. Two budgets:

- a fixed number of G steps N (``g_steps``), the same for every k: ``d_gap`` per k;
- equal wall-clock time T = N * cost(k=5): each config runs T / cost(config) G steps. The costs per G step
  are :data:`COST_MS`, measured once on the reference CPU (one thread), so that the step counts -- and the
  results -- do not depend on the machine's load; the seconds this run measured are reported beside them.

G's quality is W1(p_g, p_data) = int |F_g(x) - F_data(x)| dx (F_data exact, F_g empirical; data units), plus
the mode metrics of :mod:`gankit.metrics.modes`. Single snapshots swing a lot (the GAN oscillates), so each
number is a mean over the seeds and over the snapshots in the last half of its budget.
"""

from __future__ import annotations

import math
import time
from typing import Any
from pathlib import Path

import numpy as np
import torch
from scipy.special import ndtr

from gankit.data import load_dataset
from gankit.data.toy import ToyDistribution, get_toy
from gankit.lab.common import d_on_grid, plt, savefig
from gankit.lab.registry import register_experiment
from gankit.lab.toytrain import toy_config
from gankit.methods import build_method
from gankit.metrics.modes import NUM_SAMPLES, toy_mode_metrics
from gankit.train.context import TrainContext

TOY = "mog-1d"
# label -> the overrides `gankit train` takes (on top of the toy defaults: Adam 1e-3, batch 128, width 128).
CONFIGS: dict[str, list[str]] = {
    "k=1": ["gan.d_steps=1"],
    "k=2": ["gan.d_steps=2"],
    "k=5": ["gan.d_steps=5"],
    "unrolled (5)": ["gan.unrolled_steps=5"],
}
SLOW_G = ["optim.g_lr=1e-4"]  # the contrast regime: G 10x slower than D (fixed G-step budget, k = 1, 2, 5 only)
# Milliseconds per G step (one `method.step()`: k D steps + one G step) on mog-1d, measured once as the best
# of 3 x 100 steps with OMP_NUM_THREADS=1 on the reference CPU (AMD EPYC, machine idle). Fixed here so that
# the equal-time step counts are reproducible; their ratios are what matters (a D step ~0.85 ms, a G step
# ~0.6 ms; the unrolled step backpropagates through 5 look-ahead D steps).
COST_MS = {"k=1": 1.45, "k=2": 2.3, "k=5": 4.65, "unrolled (5)": 15.2}
TIME_REFERENCE = "k=5"  # T = N G steps of k=5
BANDWIDTH = 0.1  # KDE bandwidth (data units); the modes' stds are 0.4-0.7, so its smoothing bias is small
GRID = np.linspace(-6.0, 8.0, 701)  # covers mog-1d (means -2, 1, 3.5) and where a drifting G puts mass
KDE_SAMPLES = 10_000
FULL: dict[str, Any] = {"g_steps": 1000, "seeds": (0, 1, 2), "every": 50}
QUICK: dict[str, Any] = {"g_steps": 160, "seeds": (0,), "every": 20}
COLORS = {"k=1": "C0", "k=2": "C2", "k=5": "C3", "unrolled (5)": "C4"}


def optimal_d(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data / (p_data + p_g) (Goodfellow et al. 2014, Prop. 1); 1/2 where both densities are 0."""
    total = p_data + p_g
    return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)


def kde(samples: np.ndarray, xs: np.ndarray, bandwidth: float = BANDWIDTH) -> np.ndarray:
    """Gaussian kernel density estimate mean_i N(x; s_i, bandwidth^2) of 1-D ``samples`` on an even grid ``xs``.

    Binned (Wand 1994): each sample's unit mass is split linearly between its two grid neighbours, then the
    counts are convolved with the kernel; with a grid step of bandwidth / 5 this differs from the exact sum by
    well under 1% and costs a convolution instead of len(xs) * len(samples) kernel evaluations. Samples
    outside the grid are dropped (their mass is not spread back onto it).
    """
    dx = xs[1] - xs[0]
    pos = (np.asarray(samples, dtype=np.float64).ravel() - xs[0]) / dx
    pos = pos[(pos >= 0) & (pos <= len(xs) - 1)]
    left = np.minimum(np.floor(pos).astype(int), len(xs) - 2)
    frac = pos - left
    counts = np.bincount(left, 1 - frac, len(xs)) + np.bincount(left + 1, frac, len(xs))
    half = math.ceil(6 * bandwidth / dx)
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * dx / bandwidth) ** 2)
    dens = np.convolve(counts, kernel, mode="full")[half : half + len(xs)]  # centred, same length as xs
    return dens / (len(samples) * bandwidth * math.sqrt(2 * math.pi))


def d_star_gap(d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray) -> float:
    """E|D(x) - D*(x)| for x ~ (p_data + p_g)/2, by quadrature on an evenly spaced grid."""
    w = 0.5 * (p_data + p_g)
    return float((np.abs(d - optimal_d(p_data, p_g)) * w).sum() / w.sum())


def toy_cdf(toy: ToyDistribution, xs: np.ndarray) -> np.ndarray:
    """F_data(x) of a 1-D Gaussian mixture, exact."""
    return sum(w * ndtr((xs - m[0]) / s) for w, m, s in zip(toy.weights, toy.means, toy.stds))


def w1_to_toy(samples: np.ndarray, toy: ToyDistribution, xs: np.ndarray = GRID) -> float:
    """W1(p_g, p_data) = int |F_g - F_data| dx over ``xs`` (F_g: the samples' empirical CDF), data units."""
    f_g = np.searchsorted(np.sort(np.asarray(samples).ravel()), xs, side="right") / len(samples)
    return float(np.abs(f_g - toy_cdf(toy, xs)).sum() * (xs[1] - xs[0]))


def snapshot(method, toy: ToyDistribution, p_data: np.ndarray) -> tuple[dict, dict]:
    """The numbers of one snapshot, and the curves behind them (D, D*, p_g on the grid)."""
    z = torch.randn(KDE_SAMPLES, method.z_dim, generator=torch.Generator().manual_seed(7))  # fixed evaluation z
    x_g = method.sample(z).numpy().ravel().astype(np.float64)
    p_g = kde(x_g, GRID)
    d = d_on_grid(method.D, GRID)
    d_star = optimal_d(p_data, p_g)
    w = 0.5 * (p_data + p_g)
    row = {
        "d_gap": d_star_gap(d, p_data, p_g),
        "d_star_spread": float((np.abs(d_star - 0.5) * w).sum() / w.sum()),  # the gap of the constant D = 1/2
        "w1": w1_to_toy(x_g, toy),
        **toy_mode_metrics(torch.as_tensor(x_g[:NUM_SAMPLES]).reshape(-1, 1), toy),
    }
    return row, {"d": d, "d_star": d_star, "p_g": p_g}


def train_config(
    label: str, steps: int, seed: int, every: int, keep_at: int, extra: list[str] | None = None
) -> tuple:
    """Train one config (plus ``extra`` overrides) for ``steps`` G steps, seeded, a snapshot every ``every``.

    Returns:
        (rows: one per snapshot with its G step and cost-model seconds, the curves at G step ``keep_at``,
        the seconds the G steps took on this machine).
    """
    toy, data = get_toy(TOY), load_dataset(TOY)
    p_data = toy.density(GRID).numpy()
    cfg = toy_config(TOY, CONFIGS[label] + list(extra or []) + [f"train.seed={seed}", f"train.steps={steps}"])
    torch.manual_seed(seed)  # as train_toy: nets, noise and batches all follow train.seed
    method = build_method(cfg, data.spec, torch.device("cpu"))
    method.setup(TrainContext.for_data(data, cfg.train.batch_size, steps, seed, "cpu"))
    rows, kept, seconds = [], {}, 0.0
    for step in range(1, steps + 1):
        start = time.perf_counter()
        method.step()
        seconds += time.perf_counter() - start
        if step % every == 0:
            row, curves = snapshot(method, toy, p_data)
            rows.append({"g_step": step, "seconds": step * COST_MS[label] / 1000} | row)
            if step == keep_at:
                kept = curves | {"p_data": p_data}
    return rows, kept, seconds


def budget_steps(g_steps: int, every: int) -> dict[str, int]:
    """G steps per config at equal wall-clock time T = g_steps * cost(k=5), rounded to whole snapshots."""
    t = g_steps * COST_MS[TIME_REFERENCE]
    return {label: max(every, round(t / cost / every) * every) for label, cost in COST_MS.items()}


def window_mean(runs: list[list[dict]], key: str, lo: float, hi: float, axis: str = "g_step") -> float:
    """Mean of ``key`` over the seeds' snapshots with ``lo <= row[axis] <= hi`` (the last half of a budget)."""
    return float(np.mean([r[key] for rows in runs for r in rows if lo - 1e-9 <= r[axis] <= hi + 1e-9]))


def summarise_fixed(runs: list[list[dict]], n: int) -> dict:
    """The fixed G-step budget of one config: window means over G steps [n/2, n], and values at n."""
    out = {key: window_mean(runs, key, n / 2, n) for key in ("d_gap", "d_star_spread", "w1", "reverse_kl")}
    at_n = [next(r for r in rows if r["g_step"] == n) for rows in runs]
    return out | {
        "relative_gap": out["d_gap"] / out["d_star_spread"],
        "d_gap_per_seed": [window_mean([rows], "d_gap", n / 2, n) for rows in runs],
        "d_gap_at_n": float(np.mean([r["d_gap"] for r in at_n])),
        "modes_at_n": float(np.mean([r["modes"] for r in at_n])),
    }


def summarise_timed(runs: list[list[dict]], steps: int, t: float) -> dict:
    """The equal-time budget of one config: window means over seconds [t/2, t], and values at t."""
    at_t = [next(r for r in rows if r["g_step"] == steps) for rows in runs]
    return {
        "g_steps": steps,
        "w1": window_mean(runs, "w1", t / 2, t, "seconds"),
        "w1_per_seed": [window_mean([rows], "w1", t / 2, t, "seconds") for rows in runs],
        "d_gap": window_mean(runs, "d_gap", t / 2, t, "seconds"),
        "w1_at_t": float(np.mean([r["w1"] for r in at_t])),
        "modes_at_t": float(np.mean([r["modes"] for r in at_t])),
        "reverse_kl_at_t": float(np.mean([r["reverse_kl"] for r in at_t])),
    }


@register_experiment(
    "k-steps",
    headline=("d_gap", "relative_gap", "d_gap_slow_g", "relative_gap_slow_g", "w1_equal_time", "equal_time_winner"),
    summary="k D steps per G step: D's distance to D* vs cost",
)
def run(out: Path, quick: bool = False) -> dict:
    setting = QUICK if quick else FULL
    n, every, seeds = setting["g_steps"], setting["every"], setting["seeds"]
    equal_time, t_budget = budget_steps(n, every), n * COST_MS[TIME_REFERENCE] / 1000
    runs: dict[str, list] = {label: [] for label in CONFIGS}
    slow: dict[str, list] = {label: [] for label in CONFIGS if label.startswith("k=")}
    curves: dict[str, Any] = {}
    slow_curves: dict[str, Any] = {}
    measured: dict[str, list[float]] = {label: [] for label in CONFIGS}
    for seed in seeds:
        for label in CONFIGS:
            steps = max(n, equal_time[label])
            rows, kept, seconds = train_config(label, steps, seed, every, keep_at=n)
            runs[label].append(rows)
            measured[label].append(1000 * seconds / steps)
            curves.setdefault(label, kept)  # seed 0's
        for label, slow_runs in slow.items():
            rows, kept, _ = train_config(label, n, seed, every, keep_at=n, extra=SLOW_G)
            slow_runs.append(rows)
            slow_curves.setdefault(label, kept)

    fixed = {label: summarise_fixed(rs, n) for label, rs in runs.items()}
    fixed_slow = {label: summarise_fixed(rs, n) for label, rs in slow.items()}
    timed = {label: summarise_timed(rs, equal_time[label], t_budget) for label, rs in runs.items()}
    winner = min(timed, key=lambda label: timed[label]["w1"])
    wins_per_seed = [min(timed, key=lambda label: timed[label]["w1_per_seed"][i]) for i in range(len(seeds))]

    # The estimator's own floor: D* from a KDE of data samples against the exact p_data should be 1/2.
    toy = get_toy(TOY)
    p_data = toy.density(GRID).numpy()
    kde_floor = float(
        np.abs(optimal_d(p_data, kde(toy.sample(KDE_SAMPLES, seed=11).numpy(), GRID)) - 0.5) @ p_data / p_data.sum()
    )

    figures = [
        _figure_d_vs_dstar(
            out, {"defaults": curves, "slow G": slow_curves}, {"defaults": fixed, "slow G": fixed_slow}, n
        ),
        _figure_budgets(out, runs, slow, n, t_budget, winner, seeds),
    ]
    return {
        "d_gap": {label: round(v["d_gap"], 4) for label, v in fixed.items()},
        "relative_gap": {label: round(v["relative_gap"], 3) for label, v in fixed.items()},
        "d_gap_slow_g": {label: round(v["d_gap"], 4) for label, v in fixed_slow.items()},
        "relative_gap_slow_g": {label: round(v["relative_gap"], 3) for label, v in fixed_slow.items()},
        "w1_equal_time": {label: round(v["w1"], 4) for label, v in timed.items()},
        "equal_time_winner": winner,
        "equal_time_winner_per_seed": wins_per_seed,
        "fixed_g_steps": {"g_steps": n, "window": [n / 2, n], "per_k": fixed, "slow_g": fixed_slow},
        "slow_g_overrides": SLOW_G,
        "equal_time": {"seconds": t_budget, "window_seconds": [t_budget / 2, t_budget], "per_k": timed},
        "cost_ms_per_g_step": {
            "model": COST_MS,
            "measured_this_run": {label: float(np.min(v)) for label, v in measured.items()},  # least disturbed
        },
        "kde": {"bandwidth": BANDWIDTH, "samples": KDE_SAMPLES, "floor": kde_floor},
        "seeds": list(seeds),
        "data": TOY,
        "configs": CONFIGS,
        "trace": {label: rs[0] for label, rs in runs.items()},  # seed 0, every snapshot
        "figures": figures,
    }


def _figure_d_vs_dstar(out: Path, curves: dict, fixed: dict, n: int) -> str:
    """D and D* on the grid at G step n (seed 0): a row per regime, a column per config."""
    pyplot = plt()
    cols = len(CONFIGS)
    fig, axes = pyplot.subplots(2, cols, figsize=(4.2 * cols, 7.4), sharex=True, sharey=True)
    for r, regime in enumerate(curves):
        for c, label in enumerate(CONFIGS):
            ax = axes[r, c]
            if label not in curves[regime]:
                ax.axis("off")
                continue
            cv = curves[regime][label]
            dens = ax.twinx()
            dens.fill_between(GRID, cv["p_data"], color="0.82", label=r"$p_{data}$")
            dens.plot(GRID, cv["p_g"], color="C1", lw=1, label=rf"$p_g$ (KDE, bandwidth {BANDWIDTH})")
            dens.set_ylim(0, 2.6 * max(cv["p_data"].max(), cv["p_g"].max()))  # densities in the lower part
            dens.tick_params(labelsize=7)
            if c == cols - 1 or (label == "k=5" and regime == "slow G"):
                dens.set_ylabel("density (1 / unit of x)", fontsize=8)
            ax.set_zorder(dens.get_zorder() + 1)
            ax.patch.set_visible(False)
            # D* is 0/0 where both densities vanish and weighs nothing there: drawn where (p_data + p_g)/2 >= 1e-3
            d_star = np.where(0.5 * (cv["p_data"] + cv["p_g"]) >= 1e-3, cv["d_star"], np.nan)
            ax.plot(GRID, d_star, "k--", lw=1.6, label=r"$D^*(x) = p_{data} / (p_{data} + p_g)$")
            ax.plot(GRID, cv["d"], color=COLORS[label], lw=1.8, label="trained D(x)")
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlim(-5, 6.5)
            gap, rel = (d_star_gap(cv["d"], cv["p_data"], cv["p_g"]), fixed[regime][label]["relative_gap"])
            ax.set_title(
                f"{regime}, {label}: E|D - D*| = {gap:.3f}\n(mean {fixed[regime][label]['d_gap']:.3f}, "
                f"relative to D = 1/2: {rel:.2f})",
                fontsize=9,
            )
            if c == 0:
                ax.set_ylabel("D(x) = P(real | x)")
            if r == 1 or label not in curves["slow G"]:
                ax.set_xlabel("x (data units)")
                ax.xaxis.set_tick_params(labelbottom=True)
            if r == 0 and c == 0:
                handles = [h for a in (ax, dens) for h in a.get_legend_handles_labels()[0]]
                title = f"at G step {n}, seed 0; mean: seeds x\nsnapshots in the last half"
                axes[1, cols - 1].legend(
                    handles, [h.get_label() for h in handles], loc="center", fontsize=9, title=title, title_fontsize=9
                )
    fig.suptitle(
        f"D vs the optimal D* on {TOY} after {n} G steps. Top: toy defaults (G and D at lr 1e-3); "
        "bottom: slow G (G at 1e-4)",
        fontsize=11,
    )
    fig.tight_layout()
    return savefig(fig, out / "k_steps_d_vs_dstar.png")


def _band(ax, runs: list[list[dict]], axis: str, key, upto: float, **style) -> None:
    """Mean over seeds with a min-max band, for snapshots with row[axis] <= upto; key: a column or a function."""
    get = key if callable(key) else (lambda r: r[key])
    xs = np.array([r[axis] for r in runs[0] if r[axis] <= upto + 1e-9])
    vals = np.array([[get(r) for r in rows[: len(xs)]] for rows in runs])  # [seeds, snapshots]
    ax.plot(xs, vals.mean(0), lw=1.6, **style)
    if len(runs) > 1:
        ax.fill_between(xs, vals.min(0), vals.max(0), color=style["color"], alpha=0.13, lw=0)


def _figure_budgets(out: Path, runs: dict, slow: dict, n: int, t_budget: float, winner: str, seeds) -> str:
    pyplot = plt()
    fig, (ax1, ax2, ax3) = pyplot.subplots(1, 3, figsize=(17, 4.8))
    relative = lambda r: r["d_gap"] / r["d_star_spread"]  # noqa: E731
    for label, rs in runs.items():
        _band(ax1, rs, "g_step", "d_gap", n, color=COLORS[label], label=label)
        _band(ax2, rs, "g_step", relative, n, color=COLORS[label], label=f"{label} (defaults)")
        _band(ax3, rs, "seconds", "w1", t_budget, color=COLORS[label], label=label)
    for label, rs in slow.items():
        _band(ax2, rs, "g_step", relative, n, color=COLORS[label], ls="--", label=f"{label}, slow G")
    for ax, hi in ((ax1, n), (ax2, n), (ax3, t_budget)):
        ax.axvspan(hi / 2, hi, color="0.93", zorder=0, label="window of the headline mean")
    band = f"mean of {len(seeds)} seed{'s' if len(seeds) > 1 else ''}" + ("; band: min-max" if len(seeds) > 1 else "")
    ax1.set_xlabel("G steps (generator updates)")
    ax1.set_ylabel(r"$E\,|D(x) - D^*(x)|$, x ~ $(p_{data} + p_g)/2$")
    ax1.set_title(f"Fixed G steps: D's distance to D* ({band})", fontsize=10)
    ax1.set_ylim(bottom=0)
    ax1.legend(fontsize=8, loc="best")
    ax2.axhline(1.0, color="0.4", lw=0.8)
    ax2.set_xlabel("G steps (generator updates)")
    ax2.set_ylabel(r"$E\,|D - D^*|\ /\ E\,|D^* - 1/2|$  (1: no better than D = 1/2)")
    ax2.set_title("...relative to the know-nothing D = 1/2 (dashed: G at lr 1e-4)", fontsize=10)
    ax2.set_ylim(0, 2.1)  # room above the curves for the legend
    ax2.legend(fontsize=7, ncol=3, loc="upper center")
    ax3.set_xlabel("wall-clock seconds (G steps x cost per G step, 1 CPU thread)")
    ax3.set_ylabel(r"$W_1(p_g, p_{data})$ (data units; lower is better)")
    ax3.set_title(f"Equal wall-clock time: G's quality (winner: {winner})", fontsize=10)
    ax3.set_yscale("log")
    ax3.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return savefig(fig, out / "k_steps_budgets.png")
