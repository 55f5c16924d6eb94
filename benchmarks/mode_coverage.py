"""Mode-coverage benchmark in the form of PacGAN's Table 1 (Lin et al. 2018): ring (8 modes) and grid (25 modes).

For each toy and method (GAN, GAN + minibatch discrimination, PacGAN2, PacGAN4, unrolled GAN, every loss in
gankit.losses.LOSSES beyond the original two, gankit's best recipe, the same trained recipe sampled with
Jacobian-based truncation (gankit.sampling.truncation), and a GMM fitted by EM), train with
``--seeds`` seeds, draw 2,500 samples and compute modes captured, % high-quality samples and reverse KL
(gankit.metrics.modes); report mean and standard error over seeds. Prints JSON and writes a markdown table
with PacGAN's published rows beside ours. The best *GAN* row is reported separately (the GMM is the
explicit-density baseline, not an answer to mode collapse).

Runs are independent, so they go to ``--workers`` processes of one thread each.

    python benchmarks/mode_coverage.py --workers 2        # the full benchmark: 10 seeds
    python benchmarks/mode_coverage.py --quick --seeds 2  # a smoke run
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

from gankit.errors import UserError
from gankit.lab.toytrain import REMEDIES, toy_config
from gankit.losses import LOSSES

# PacGAN, Table 1 (mean over 10 runs; modes, % high quality, reverse KL).
PUBLISHED = {
    "ring": {"GAN (PacGAN paper)": (6.3, 98.2, 0.45), "PacGAN4 (PacGAN paper)": (7.8, 95.9, 0.07)},
    "grid": {"GAN (PacGAN paper)": (17.3, 94.8, 0.70), "PacGAN4 (PacGAN paper)": (24.8, 93.6, 0.04)},
}
BASE_LOSSES = {"minimax", "non-saturating"}
LOSS_EXTRAS = {"wgan": ["gan.penalty=wgan-gp"]}  # a critic needs its Lipschitz constraint: WGAN-GP
# The remedies' step budgets (gankit.lab.toytrain.REMEDIES) times this: every row but the best recipe then
# costs about the same few seconds per run, so that the 10-seed benchmark fits in 30 minutes on 2 cores.
BUDGET_SCALE = 0.4
BEST = "gankit best (GAN + R1 + EMA of G + lr decay)"
# gankit's best recipe: the non-saturating GAN with a deeper net (3 x 128) and larger batches, an R1 penalty
# on D (Mescheder et al. 2018), the EMA of G for sampling (Yazici et al. 2019) and a linear learning-rate
# decay to 0 over the last 80% of a longer run. model.data_scale puts the MLPs in the toy's own units
# (ring radius 1, grid means up to 4): the one setting that differs between the toys.
BEST_RECIPE = ["train.batch_size=512", "model.depth=3", "optim.g_lr=1e-3", "optim.d_lr=1e-3",
               "gan.penalty=r1", "gan.penalty_weight=1", "gan.ema_decay=0.999",
               "optim.lr_schedule=linear", "optim.lr_decay_start=0.2", "train.steps=8000"]
DATA_SCALE = {"ring": 1.0, "grid": 4.0}
# The best recipe's G sampled a second way: Jacobian-based truncation (Tanielian et al. 2020,
# gankit.sampling.truncation) drops the JBT_RATIO of latents where ||dG/dz|| is largest, i.e. the samples G
# stretches across the gaps between modes. Same trained G, so the row costs no training; JBT_SWEEP ratios
# are reported in the JSON to show the trade-off (high quality up, reverse KL slowly up).
JBT_RATIO = 0.2
JBT_SWEEP = (0.05, 0.1, 0.2, 0.3)
BEST_JBT = f"gankit best + Jacobian truncation ({JBT_RATIO:.0%})"
TOYS = ("ring", "grid")
THRESHOLDS = {"ring": (7.9, 0.95), "grid": (24.9, 0.95)}  # acceptance: modes and high-quality fraction
# ... and "beyond PacGAN4's published row": its reverse KL is the ceiling
RKL_CEILING = {toy: PUBLISHED[toy]["PacGAN4 (PacGAN paper)"][2] for toy in TOYS}


def scaled(overrides: list[str], factor: float) -> list[str]:
    """``overrides`` with train.steps multiplied by ``factor``."""
    return [f"train.steps={max(1, round(int(o.split('=')[1]) * factor))}" if o.startswith("train.steps=") else o for o in overrides]


def methods() -> dict[str, list[str] | None]:
    """Method name -> config overrides (None: the GMM)."""
    table: dict[str, list[str] | None] = {k: scaled(v, BUDGET_SCALE) for k, v in REMEDIES.items()}
    for name in sorted(set(LOSSES) - BASE_LOSSES):  # the better losses, once they exist
        overrides = table["GAN"] + [f"gan.loss={name}"] + LOSS_EXTRAS.get(name, [])
        try:
            toy_config("ring", overrides)
        except UserError:  # a loss that needs its own architecture (e.g. BEGAN's auto-encoder D) is left out
            continue
        table[f"GAN, {name} loss" + (" + GP" if name in LOSS_EXTRAS else "")] = overrides
    table[BEST] = BEST_RECIPE
    table[BEST_JBT] = BEST_RECIPE  # not trained again: run_one samples BEST's G with JBT as well
    table["GMM (EM)"] = None
    return table


def overrides_for(toy: str, method: str, table: dict) -> list[str] | None:
    """The overrides of ``method`` on ``toy``: the best recipe adds the toy's data scale."""
    return table[method] + [f"model.data_scale={DATA_SCALE[toy]}"] if method in (BEST, BEST_JBT) else table[method]


def run_one(toy_name: str, overrides: list[str] | None, seed: int, quick: bool, jbt: bool = False) -> dict:
    """Train (or fit) one method on one toy with one seed; its metrics, seconds and CPU seconds. With
    ``jbt``, also the metrics of JBT sampling at each ratio of JBT_SWEEP (key ``jbt``: ratio -> metrics)."""
    torch.set_num_threads(1)  # one thread per worker: the machine is shared, tiny MLPs gain nothing from more
    from gankit.data import load_dataset
    from gankit.data.toy import get_toy
    from gankit.lab.toytrain import generate, train_toy
    from gankit.methods.gmm import GMMGenerator
    from gankit.metrics.modes import NUM_SAMPLES, toy_mode_metrics

    toy = get_toy(toy_name)
    start, cpu = time.monotonic(), time.process_time()
    if overrides is None:
        data = load_dataset(toy_name).x[:20000]
        model = GMMGenerator(toy.num_modes, seed=seed, n_init=3).fit(data)
    else:
        extra = ["train.steps=30"] if quick else []
        model = train_toy(toy_config(toy_name, overrides + extra + [f"train.seed={seed}"])).method
    m = toy_mode_metrics(generate(model, NUM_SAMPLES, seed=10_000 + seed), toy)
    if jbt:
        from gankit.sampling.truncation import jacobian_norms, truncated_latents

        if seed == 0:  # for the figure: plain samples and their Jacobian norms
            z = torch.randn(NUM_SAMPLES, model.z_dim, generator=torch.Generator().manual_seed(10_000 + seed))
            m["figure"] = {"x": model.sample(z), "norm": jacobian_norms(model.sample, z)}
        m["jbt"] = {str(r): toy_mode_metrics(model.sample(truncated_latents(model.sample, NUM_SAMPLES, model.z_dim, r, seed=10_000 + seed)), toy)
                    for r in JBT_SWEEP}
    return m | {"seconds": time.monotonic() - start, "cpu_seconds": time.process_time() - cpu}


def fmt(mean: float, sem: float, digits: int) -> str:
    return f"{mean:.{digits}f} ± {sem:.{digits}f}"


def steps_of(overrides: list[str] | None) -> str:
    if overrides is None:
        return "EM"
    return next((o.split("=")[1] for o in overrides if o.startswith("train.steps=")), "?")


def markdown(result: dict) -> str:
    summary, table = result["summary"], result["methods"]
    lines = [
        f"Mode coverage on PacGAN's synthetic mixtures (mean ± s.e. over {result['seeds']} seeds, 2500 samples each). "
        f"Run time {result['minutes']:.1f} min wall clock with {result['workers']} worker process(es) of one thread on a 2-core CPU "
        f"(load average {result['load_average_at_end'][2]:.1f} over the last 15 min, the workers included); "
        f"{result['cpu_minutes']:.1f} min of CPU time in all. "
        "Steps are G steps; s/run is the mean wall time of one run (ring / grid).",
        "",
        "| method | steps | s/run | ring: modes (max 8) | ring: high quality (%) | ring: reverse KL | grid: modes (max 25) | grid: high quality (%) | grid: reverse KL |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for method in table:
        if method not in summary["ring"]:
            continue
        cells = []
        for toy in TOYS:
            s = summary[toy][method]
            cells += [fmt(*s["modes"], 1), fmt(100 * s["high_quality"][0], 100 * s["high_quality"][1], 1), fmt(*s["reverse_kl"], 2)]
        secs = " / ".join(f"{summary[t][method]['seconds'][0]:.0f}" for t in TOYS)
        steps = "30" if result["quick"] and table[method] is not None else steps_of(table[method])
        lines.append(f"| {method} | {steps} | {secs} | " + " | ".join(cells) + " |")
    for name in PUBLISHED["ring"]:
        r, g = PUBLISHED["ring"][name], PUBLISHED["grid"][name]
        lines.append(f"| {name} | | | {r[0]} | {r[1]} | {r[2]} | {g[0]} | {g[1]} | {g[2]} |")
    best = result["best_gan"]
    lines += ["", "Best GAN method: " + ", ".join(f"{t}: {best[t]}" for t in TOYS) + ". Acceptance (one method with >= 7.9 ring modes and >= 24.9 grid modes, "
              f">= 95% high quality on both, reverse KL at most PacGAN4's {RKL_CEILING['ring']} / {RKL_CEILING['grid']}): "
              + ("met by " + ", ".join(result["acceptance"]["passing_gan_methods"]) if result["acceptance"]["met"] else "not met") + "."]
    if result.get("jbt_sweep"):
        lines += ["", "Jacobian truncation of the best recipe's G at other ratios (fraction of latents dropped; same trained G; high quality % / reverse KL):", "",
                  "| ratio | " + " | ".join(f"{t}: high quality (%) | {t}: reverse KL" for t in TOYS) + " |", "|---|" + "---|---|" * len(TOYS)]
        for ratio in result["jbt_sweep"][TOYS[0]]:
            cells = [c for t in TOYS for c in (fmt(100 * result["jbt_sweep"][t][ratio]["high_quality"][0], 100 * result["jbt_sweep"][t][ratio]["high_quality"][1], 1),
                                              fmt(*result["jbt_sweep"][t][ratio]["reverse_kl"], 3))]
            lines.append(f"| {float(ratio):.0%} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def jbt_figure(figures: dict, path: Path) -> None:
    """Seed 0's plain samples of the best recipe on each toy, the ones JBT drops (largest ||dG/dz||) in red."""
    import matplotlib
    import matplotlib.patches

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gankit.data.toy import get_toy

    fig, axes = plt.subplots(1, len(figures), figsize=(5.2 * len(figures), 5), squeeze=False)
    for ax, (toy, f) in zip(axes[0], figures.items()):
        x, norm = f["x"].numpy(), f["norm"]
        dropped = (norm > torch.quantile(norm, 1 - JBT_RATIO)).numpy()
        spec = get_toy(toy)
        means = spec.mode_means
        # the high-quality region of each mode: 3 std around its mean
        for mean, std in zip(means, spec.mode_stds):
            ax.add_patch(matplotlib.patches.Circle(mean, 3 * std, fill=False, lw=0.8, color="k"))
        ax.plot([], [], "o", mfc="none", color="k", label="3 std of each mode")
        ax.scatter(x[dropped, 0], x[dropped, 1], s=4, c="tab:red", alpha=0.6, label=f"dropped by JBT ({dropped.sum()})")
        ax.scatter(x[~dropped, 0], x[~dropped, 1], s=4, c="tab:blue", alpha=0.6, label=f"kept ({(~dropped).sum()})")
        lim = 1.3 * abs(means).max() + 0.2
        ax.set(title=f"{toy}: seed 0, the {JBT_RATIO:.0%} largest ||dG/dz|| in red", xlabel="x1", ylabel="x2", aspect="equal",
               xlim=(-lim, lim), ylim=(-lim, lim))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8)
    fig.suptitle("Jacobian-based truncation (Tanielian et al. 2020): the samples between modes are where G stretches most", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    from gankit.metrics.modes import mean_sem

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--workers", type=int, default=1, help="parallel worker processes, one thread each")
    ap.add_argument("--quick", action="store_true", help="30 training steps per GAN: checks the plumbing only")
    ap.add_argument("--out", default="benchmarks/results", help="folder for mode_coverage.json and mode_coverage.md")
    ap.add_argument("--only", nargs="*", help="run only these methods (names as in the table)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    start, cpu_start = time.monotonic(), time.process_time()
    table = {k: v for k, v in methods().items() if not args.only or k in args.only}
    # Longest runs first, so that the workers finish together.
    trained = [m for m in table if m != BEST_JBT or BEST not in table]
    jobs = sorted(((toy, method, seed) for toy in TOYS for method in trained for seed in range(args.seeds)),
                  key=lambda j: -(int(steps_of(table[j[1]])) if table[j[1]] is not None else 0))
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {job: pool.submit(run_one, job[0], overrides_for(job[0], job[1], table), job[2], args.quick, job[1] in (BEST, BEST_JBT)) for job in jobs}
        runs: dict = {toy: {m: [] for m in table} for toy in TOYS}
        figures: dict = {}
        for toy, method, seed in sorted(futures, key=lambda j: (TOYS.index(j[0]), list(table).index(j[1]), j[2])):
            r = futures[(toy, method, seed)].result()
            sweep = r.pop("jbt", None)
            if "figure" in r:
                figures[toy] = r.pop("figure")
            if method != BEST_JBT:
                runs[toy][method].append(r)
            if sweep is not None and BEST_JBT in table:
                runs[toy][BEST_JBT].append(sweep[str(JBT_RATIO)] | {k: r[k] for k in ("seconds", "cpu_seconds")} | {"sweep": sweep})
    summary: dict = {}
    for toy in TOYS:
        for method, rs in runs[toy].items():
            summary.setdefault(toy, {})[method] = {k: mean_sem(r[k] for r in rs) for k in ("modes", "high_quality", "reverse_kl", "seconds")}
            s = summary[toy][method]
            print(f"{toy:5s} {method:45s} modes {fmt(*s['modes'], 2)}  hq {fmt(*s['high_quality'], 3)}  rkl {fmt(*s['reverse_kl'], 3)}  ({s['seconds'][0]:.1f} s/run)", flush=True)
    jbt_sweep = {toy: {ratio: {k: mean_sem(r["sweep"][ratio][k] for r in runs[toy][BEST_JBT]) for k in ("modes", "high_quality", "reverse_kl")}
                       for ratio in map(str, JBT_SWEEP)} for toy in TOYS if runs[toy].get(BEST_JBT)}
    for toy in jbt_sweep:
        for r in runs[toy][BEST_JBT]:
            r.pop("sweep")
    minutes = (time.monotonic() - start) / 60
    load = os.getloadavg()  # how busy the shared machine was (1, 5, 15 min averages)
    # the JBT row repeats its trained G's seconds for the table; its CPU time is already counted once
    cpu_minutes = (time.process_time() - cpu_start + sum(r["cpu_seconds"] for t in runs for m, rs in runs[t].items() if m != BEST_JBT for r in rs)) / 60
    key = lambda toy: lambda m: (summary[toy][m]["modes"][0], summary[toy][m]["high_quality"][0])  # noqa: E731
    best = {toy: max(summary[toy], key=key(toy)) for toy in TOYS}
    gans = [m for m in table if table[m] is not None]
    best_gan = {toy: max(gans, key=key(toy)) for toy in TOYS} if gans else {}
    # One method must pass on both toys: the acceptance is checked per GAN method.
    passing = [m for m in gans if all(summary[t][m]["modes"][0] >= THRESHOLDS[t][0] and summary[t][m]["high_quality"][0] >= THRESHOLDS[t][1]
                                      and summary[t][m]["reverse_kl"][0] <= RKL_CEILING[t] for t in TOYS)]
    result = {"seeds": args.seeds, "quick": args.quick, "workers": args.workers, "load_average_at_end": load, "minutes": minutes, "cpu_minutes": cpu_minutes,
              "methods": table, "best_recipe_data_scale": DATA_SCALE, "budget_scale": BUDGET_SCALE, "summary": summary, "best": best, "best_gan": best_gan,
              "acceptance": {"thresholds": THRESHOLDS, "reverse_kl_ceiling": RKL_CEILING, "passing_gan_methods": passing, "met": bool(passing)},
              "jbt_ratio": JBT_RATIO, "jbt_sweep": jbt_sweep, "published": PUBLISHED, "runs": runs}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "mode_coverage.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "mode_coverage.md").write_text(markdown(result))
    if figures:
        jbt_figure(figures, out / "mode_coverage_jbt.png")
    print(json.dumps({k: result[k] for k in ("minutes", "cpu_minutes", "best", "best_gan", "acceptance")}, indent=1))
    print(markdown(result))


if __name__ == "__main__":
    main()
