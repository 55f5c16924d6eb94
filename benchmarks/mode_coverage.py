"""Mode-coverage benchmark in the form of PacGAN's Table 1 (Lin et al. 2018): ring (8 modes) and grid (25 modes).

For each toy and method (GAN, GAN + minibatch discrimination, PacGAN2, PacGAN4, unrolled GAN, every loss in
gankit.losses.LOSSES beyond the original two, and a GMM fitted by EM), train with ``--seeds`` seeds, draw
2,500 samples and compute modes captured, % high-quality samples and reverse KL (gankit.metrics.modes);
report mean and standard error over seeds. Prints JSON and writes a markdown table with PacGAN's published
rows beside ours.

    python benchmarks/mode_coverage.py                   # the full benchmark: 10 seeds
    python benchmarks/mode_coverage.py --quick --seeds 2 # a smoke run
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from gankit.data import load_dataset
from gankit.data.toy import get_toy
from gankit.errors import UserError
from gankit.lab.toytrain import REMEDIES, generate, toy_config, train_toy
from gankit.losses import LOSSES
from gankit.methods.gmm import GMMGenerator
from gankit.metrics.modes import NUM_SAMPLES, mean_sem, toy_mode_metrics

# PacGAN, Table 1 (mean over 10 runs; modes, % high quality, reverse KL).
PUBLISHED = {
    "ring": {"GAN (PacGAN paper)": (6.3, 98.2, 0.45), "PacGAN4 (PacGAN paper)": (7.8, 95.9, 0.07)},
    "grid": {"GAN (PacGAN paper)": (17.3, 94.8, 0.70), "PacGAN4 (PacGAN paper)": (24.8, 93.6, 0.04)},
}
BASE_LOSSES = {"minimax", "non-saturating"}


def methods() -> dict[str, list[str] | None]:
    """Method name -> config overrides (None: the GMM)."""
    table: dict[str, list[str] | None] = dict(REMEDIES)
    for name in sorted(set(LOSSES) - BASE_LOSSES):  # the better losses, once they exist
        overrides = REMEDIES["GAN"] + [f"gan.loss={name}"]
        try:
            toy_config("ring", overrides)
        except UserError:  # a loss that needs its own architecture (e.g. BEGAN's auto-encoder D) is left out
            continue
        table[f"GAN, {name} loss"] = overrides
    table["GMM (EM)"] = None
    return table


def run_one(toy_name: str, overrides: list[str] | None, seed: int, quick: bool) -> dict:
    toy = get_toy(toy_name)
    start = time.monotonic()
    if overrides is None:
        data = load_dataset(toy_name).x[:20000]
        model = GMMGenerator(toy.num_modes, seed=seed, n_init=3).fit(data)
    else:
        extra = ["train.steps=30"] if quick else []
        model = train_toy(toy_config(toy_name, overrides + extra + [f"train.seed={seed}"])).method
    m = toy_mode_metrics(generate(model, NUM_SAMPLES, seed=10_000 + seed), toy)
    return m | {"seconds": time.monotonic() - start}


def fmt(mean: float, sem: float, digits: int) -> str:
    return f"{mean:.{digits}f} ± {sem:.{digits}f}"


def markdown(summary: dict, seeds: int, minutes: float, cpu_minutes: float) -> str:
    lines = [
        f"Mode coverage on PacGAN's synthetic mixtures (mean ± s.e. over {seeds} seeds, {NUM_SAMPLES} samples each; "
        f"run time {minutes:.1f} min wall clock, {cpu_minutes:.1f} min of CPU time, one thread).",
        "",
        "| method | ring: modes (max 8) | ring: high quality (%) | ring: reverse KL | grid: modes (max 25) | grid: high quality (%) | grid: reverse KL |",
        "|---|---|---|---|---|---|---|",
    ]
    for method in next(iter(summary.values())):
        cells = []
        for toy in ("ring", "grid"):
            s = summary[toy][method]
            cells += [fmt(*s["modes"], 1), fmt(100 * s["high_quality"][0], 100 * s["high_quality"][1], 1), fmt(*s["reverse_kl"], 2)]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    for name in PUBLISHED["ring"]:
        r, g = PUBLISHED["ring"][name], PUBLISHED["grid"][name]
        lines.append(f"| {name} | {r[0]} | {r[1]} | {r[2]} | {g[0]} | {g[1]} | {g[2]} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="30 training steps per GAN: checks the plumbing only")
    ap.add_argument("--out", default="benchmarks/results", help="folder for mode_coverage.json and mode_coverage.md")
    ap.add_argument("--only", nargs="*", help="run only these methods (names as in the table)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # the machine is shared; tiny MLPs gain nothing from more threads
    start, cpu_start = time.monotonic(), time.process_time()
    table = {k: v for k, v in methods().items() if not args.only or k in args.only}
    runs, summary = {}, {}
    for toy in ("ring", "grid"):
        for method, overrides in table.items():
            rs = [run_one(toy, overrides, seed, args.quick) for seed in range(args.seeds)]
            runs.setdefault(toy, {})[method] = rs
            summary.setdefault(toy, {})[method] = {k: mean_sem(r[k] for r in rs) for k in ("modes", "high_quality", "reverse_kl", "seconds")}
            s = summary[toy][method]
            print(f"{toy:5s} {method:32s} modes {fmt(*s['modes'], 2)}  hq {fmt(*s['high_quality'], 3)}  rkl {fmt(*s['reverse_kl'], 3)}  ({s['seconds'][0]:.1f} s/run)", flush=True)
    minutes = (time.monotonic() - start) / 60
    cpu_minutes = (time.process_time() - cpu_start) / 60  # this process's CPU time: what it costs on an unshared core
    best = {toy: max(summary[toy], key=lambda m: (summary[toy][m]["modes"][0], summary[toy][m]["high_quality"][0])) for toy in summary}
    result = {"seeds": args.seeds, "quick": args.quick, "minutes": minutes, "cpu_minutes": cpu_minutes, "methods": {k: v for k, v in table.items()}, "summary": summary, "best": best, "published": PUBLISHED, "runs": runs}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "mode_coverage.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "mode_coverage.md").write_text(markdown(summary, args.seeds, minutes, cpu_minutes))
    print(json.dumps({"minutes": minutes, "cpu_minutes": cpu_minutes, "best": best, "summary": summary}, indent=1))
    print(markdown(summary, args.seeds, minutes, cpu_minutes))


if __name__ == "__main__":
    main()
