"""Mode-coverage benchmark in the form of PacGAN's Table 1 (Lin et al. 2018): ring (8 modes) and grid (25 modes).

For each toy and method (GAN, GAN + minibatch discrimination, PacGAN2, PacGAN4, unrolled GAN, every loss in
gankit.losses.LOSSES beyond the original two, gankit's best recipe, and a GMM fitted by EM), train with
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
BEST_RECIPE = ["train.batch_size=256", "model.depth=3", "optim.g_lr=1e-3", "optim.d_lr=1e-3",
               "gan.penalty=r1", "gan.penalty_weight=1", "gan.ema_decay=0.999",
               "optim.lr_schedule=linear", "optim.lr_decay_start=0.2", "train.steps=8000"]
DATA_SCALE = {"ring": 1.0, "grid": 4.0}
TOYS = ("ring", "grid")
THRESHOLDS = {"ring": (7.9, 0.95), "grid": (24.9, 0.95)}  # acceptance: modes and high-quality fraction


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
    table["GMM (EM)"] = None
    return table


def overrides_for(toy: str, method: str, table: dict) -> list[str] | None:
    """The overrides of ``method`` on ``toy``: the best recipe adds the toy's data scale."""
    return table[method] + [f"model.data_scale={DATA_SCALE[toy]}"] if method == BEST else table[method]


def run_one(toy_name: str, overrides: list[str] | None, seed: int, quick: bool) -> dict:
    """Train (or fit) one method on one toy with one seed; its metrics, seconds and CPU seconds."""
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
    lines += ["", "Best GAN method: " + ", ".join(f"{t}: {best[t]}" for t in TOYS) + ". Acceptance (>= 7.9 ring modes and >= 24.9 grid modes, >= 95% high quality on both, one method): "
              + ("met" if result["acceptance"]["met"] else "not met") + "."]
    return "\n".join(lines) + "\n"


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
    jobs = sorted(((toy, method, seed) for toy in TOYS for method in table for seed in range(args.seeds)),
                  key=lambda j: -(int(steps_of(table[j[1]])) if table[j[1]] is not None else 0))
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {job: pool.submit(run_one, job[0], overrides_for(job[0], job[1], table), job[2], args.quick) for job in jobs}
        runs: dict = {toy: {m: [] for m in table} for toy in TOYS}
        for toy, method, seed in sorted(futures, key=lambda j: (TOYS.index(j[0]), list(table).index(j[1]), j[2])):
            runs[toy][method].append(futures[(toy, method, seed)].result())
    summary: dict = {}
    for toy in TOYS:
        for method, rs in runs[toy].items():
            summary.setdefault(toy, {})[method] = {k: mean_sem(r[k] for r in rs) for k in ("modes", "high_quality", "reverse_kl", "seconds")}
            s = summary[toy][method]
            print(f"{toy:5s} {method:45s} modes {fmt(*s['modes'], 2)}  hq {fmt(*s['high_quality'], 3)}  rkl {fmt(*s['reverse_kl'], 3)}  ({s['seconds'][0]:.1f} s/run)", flush=True)
    minutes = (time.monotonic() - start) / 60
    load = os.getloadavg()  # how busy the shared machine was (1, 5, 15 min averages)
    cpu_minutes = (time.process_time() - cpu_start + sum(r["cpu_seconds"] for t in runs for rs in runs[t].values() for r in rs)) / 60
    key = lambda toy: lambda m: (summary[toy][m]["modes"][0], summary[toy][m]["high_quality"][0])  # noqa: E731
    best = {toy: max(summary[toy], key=key(toy)) for toy in TOYS}
    gans = [m for m in table if table[m] is not None]
    best_gan = {toy: max(gans, key=key(toy)) for toy in TOYS} if gans else {}
    # One method must pass on both toys: the acceptance is checked per GAN method.
    passing = [m for m in gans if all(summary[t][m]["modes"][0] >= THRESHOLDS[t][0] and summary[t][m]["high_quality"][0] >= THRESHOLDS[t][1] for t in TOYS)]
    result = {"seeds": args.seeds, "quick": args.quick, "workers": args.workers, "load_average_at_end": load, "minutes": minutes, "cpu_minutes": cpu_minutes,
              "methods": table, "best_recipe_data_scale": DATA_SCALE, "budget_scale": BUDGET_SCALE, "summary": summary, "best": best, "best_gan": best_gan,
              "acceptance": {"thresholds": THRESHOLDS, "passing_gan_methods": passing, "met": bool(passing)},
              "published": PUBLISHED, "runs": runs}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "mode_coverage.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "mode_coverage.md").write_text(markdown(result))
    print(json.dumps({k: result[k] for k in ("minutes", "cpu_minutes", "best", "best_gan", "acceptance")}, indent=1))
    print(markdown(result))


if __name__ == "__main__":
    main()
