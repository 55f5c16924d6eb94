"""The loss family on Fashion-MNIST, beside Lucic et al. 2018 ("Are GANs Created Equal?", Table 2's
best FIDs) and Dai & Wipf 2019 for the VAE.

Trains each configuration with one budget and one or more seeds, draws samples from each run (the
EMA generator where the recipe keeps one), scores them with a *domain* FID (features of gankit's
Fashion-MNIST classifier, against the test split) and, with ``--inception``, with the Inception FID
of the papers' protocol (10,000 samples against the 10,000 test images). Writes ``results.json``
and ``table.md`` to ``--out`` and prints the JSON.

    python benchmarks/losses_fashion_mnist.py --quick --workers 2      # CPU, under 20 minutes
    python benchmarks/losses_fashion_mnist.py --quick --only ns,vae    # a 1-2 row smoke
    python benchmarks/losses_fashion_mnist.py --seeds 0 1 2 --inception --device cuda   # the full table
    python benchmarks/losses_fashion_mnist.py --only best --steps 60000 --inception     # the best recipe alone

Domain FIDs are on the classifier's feature scale, not Inception's: compare them across rows of
this table (and with the noise ceiling printed beside them), not with the papers' numbers. Only the
Inception column is comparable with Lucic et al.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

import gankit  # noqa: E402
from gankit.config import load_config  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.train import load_checkpoint  # noqa: E402


@dataclass(frozen=True)
class Row:
    key: str  # --only name
    label: str  # the table's first column
    preset: str  # a shipped config
    reference: str  # the published best FID beside it
    quick: list[str] = field(default_factory=list)  # overrides that shrink the nets for --quick


# --quick: every GAN row on the same small DCGAN (Lucic et al. compare the losses on one architecture);
# the ResNets of the full presets cost 5-10x more per step on a CPU.
SMALL_CONV = ["model.arch=dcgan", "model.g_width=32", "model.d_width=32"]


def quick(steps: int, *extra: str) -> list[str]:
    """--quick overrides: the small nets and a G-step count that costs about 1-1.5 min on a 2-core CPU.

    A fixed step count, not a wall-clock cut, so that the quick table does not depend on the machine's load;
    rows with k = 5 critic steps or a gradient penalty get fewer G steps for about the same compute."""
    return [*SMALL_CONV, f"train.steps={steps}", *extra]


ROWS = [
    Row("mm", "MM GAN", "mm-fashion-mnist", "29.6 (Lucic et al.)", quick(2500)),
    Row("ns", "NS GAN", "ns-fashion-mnist", "26.5 (Lucic et al.)", quick(2500)),
    Row("lsgan", "LSGAN", "lsgan-fashion-mnist", "30.7 (Lucic et al.)", quick(2500)),
    Row("wgan", "WGAN (clipping)", "wgan-fashion-mnist", "21.5 (Lucic et al.)", quick(1000)),
    Row("wgan-gp", "WGAN-GP", "wgan-gp-fashion-mnist", "24.5 (Lucic et al.)", quick(400)),
    Row("dragan", "DRAGAN", "dragan-fashion-mnist", "27.7 (Lucic et al.)", quick(1700)),
    # BEGAN's k_t control at the paper's gain (1e-3) needs thousands of steps to leave k = 0, and until then
    # G collapses onto one image the auto-encoder reconstructs well; a short run needs a faster control.
    Row("began", "BEGAN", "began-fashion-mnist", "22.9 (Lucic et al.)", ["model.g_width=16", "model.d_width=16", "train.steps=900", "gan.began_lambda_k=0.01", "gan.began_gamma=0.7", "optim.g_lr=5e-4", "optim.d_lr=5e-4"]),
    Row("hinge-sn", "hinge + SN (SNGAN)", "hinge-sn-fashion-mnist", "-", quick(600)),
    Row("vae", "VAE (cross-entropy)", "vae-fashion-mnist", "43.6 (Dai & Wipf; learned-variance 60.0, 2-stage 29.3)", ["vae.width=32", "train.steps=3000"]),
    Row("best", "gankit best recipe", "best-fashion-mnist", "15.8 (PA-GAN, Zhang et al. 2019)", quick(1200)),
]


def domain_fid(samples: torch.Tensor, real: torch.Tensor, extractor: str = "fashion-mnist-classifier") -> float:
    """FID between two image sets (N x 1 x 28 x 28 in [-1, 1]) in the feature space of ``extractor``.

    Uses gankit.metrics (the evaluation module): its ``fid`` and its feature extractor by name
    (``fashion-mnist-classifier`` for the domain FID, ``inception`` for the papers' protocol).

    Raises:
        RuntimeError: when gankit.metrics, its ``fid`` or the extractor is not available.
    """
    try:
        from gankit.metrics.extractors import EXTRACTORS, extract
        from gankit.metrics.fid import fid
    except ImportError as e:
        raise RuntimeError(f"domain_fid needs gankit.metrics with fid() and the '{extractor}' feature extractor (the evaluation module); importing it failed: {e}") from None
    if extractor not in EXTRACTORS:
        raise RuntimeError(f"domain_fid: gankit.metrics has no '{extractor}' extractor (it has: {', '.join(EXTRACTORS)})")
    fa, _ = extract(extractor, samples)
    fb, _ = extract(extractor, real)
    return float(fid(fa, fb))


def train_and_score(row: Row, seed: int, args, real: torch.Tensor) -> dict:
    cpu_start = time.process_time()
    overrides = [f"train.seed={seed}", f"train.device={args.device}", "train.checkpoint_every=100000000", "train.sample_every=100000000"]
    if args.quick:
        overrides += row.quick
    if args.steps or not args.quick:
        overrides += [f"train.steps={args.steps or 20000}"]
    if args.minutes:
        overrides += [f"train.minutes={args.minutes}"]
    cfg = load_config(row.preset, overrides)
    run_dir = Path(args.out) / "runs" / f"{row.key}-seed{seed}"
    if (run_dir / "checkpoints").is_dir():  # trained by an earlier invocation: score it again
        result_step, seconds = load_checkpoint(run_dir).step, None
    else:
        result = gankit.train(cfg, run_dir, progress=args.progress)
        result_step, seconds = result.step, result.seconds
    samples = gankit.sample(run_dir, n=args.samples, seed=10_000 + seed, device=args.device)
    out = {"row": row.key, "seed": seed, "steps": result_step, "train_seconds": seconds, "domain_fid": domain_fid(samples, real[: args.samples])}
    if args.inception:
        out["inception_fid"] = domain_fid(samples, real[: args.samples], extractor="inception")
    out["cpu_seconds"] = time.process_time() - cpu_start
    print(json.dumps(out), file=sys.stderr, flush=True)
    return out


def _fmt(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def markdown_table(results: list[dict], rows: list[Row], noise_ceiling: float, args, minutes: float, device: str, cpu_minutes: float) -> str:
    lines = [
        f"Fashion-MNIST, {'quick budget (small DCGAN nets, the G steps of the last column)' if args.quick else f'full budget: {args.steps or 20000} G steps'}" + (f", cut at {args.minutes} min per run" if args.minutes else "") + f", seeds {args.seeds}, {args.samples} samples against the test split; {minutes:.1f} min wall clock, {cpu_minutes:.1f} min of CPU time, on {device}.",
        f"Domain FID: gankit's Fashion-MNIST classifier features (uniform noise scores {noise_ceiling:.1f}: the noise ceiling). Published numbers are Inception FIDs (10,000 samples vs the test split).",
        "",
        "| configuration | preset | domain FID (ours) | Inception FID (ours) | published best FID | G steps |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        rs = [r for r in results if r["row"] == row.key]
        dom = _fmt([r["domain_fid"] for r in rs])
        inc = _fmt([r["inception_fid"] for r in rs if "inception_fid" in r])
        steps = ", ".join(str(r["steps"]) for r in rs)
        lines.append(f"| {row.label} | `{row.preset}` | {dom} | {inc} | {row.reference} | {steps} |")
    if args.quick:
        lines += ["", "Quick overrides of each preset: " + "; ".join(f"{row.key}: `{' '.join(row.quick)}`" for row in rows) + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small nets, a short fixed budget per row, 2,000 samples: a CPU run under 20 minutes")
    p.add_argument("--only", default="", help=f"comma-separated rows (default all: {','.join(r.key for r in ROWS)})")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--steps", type=int, default=None, help="G steps per run (default: 20000; --quick: each row's own short budget)")
    p.add_argument("--minutes", type=float, default=None, help="also stop each run after this many wall-clock minutes")
    p.add_argument("--samples", type=int, default=None, help="samples per run for the FIDs (default 10000; --quick: 2000)")
    p.add_argument("--inception", action="store_true", help="also the Inception FID (the papers' protocol; slow without a GPU)")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default="benchmarks/results/losses_fashion_mnist")
    p.add_argument("--progress", action="store_true")
    p.add_argument("--workers", type=int, default=1, help="train this many runs at once, one thread each (CPU: 2 on a 2-core machine)")
    args = p.parse_args(argv)
    args.samples = args.samples or (2000 if args.quick else 10000)
    keys = [k for k in args.only.split(",") if k] or [r.key for r in ROWS]
    unknown = set(keys) - {r.key for r in ROWS}
    if unknown:
        p.error(f"--only: unknown rows {sorted(unknown)}")
    rows = [r for r in ROWS if r.key in keys]
    if args.device == "auto" or (args.device.startswith("cuda") and not torch.cuda.is_available()):
        args.device = "cuda" if torch.cuda.is_available() else "cpu"

    start, cpu_start = time.monotonic(), time.process_time()
    real = load_dataset("fashion-mnist", split="test").x
    g = torch.Generator().manual_seed(0)
    real = real[torch.randperm(len(real), generator=g)]
    noise = torch.rand(args.samples, *real.shape[1:], generator=g) * 2 - 1
    noise_ceiling = domain_fid(noise, real[: args.samples])
    jobs = [(row, seed) for row in rows for seed in args.seeds]
    if args.workers > 1:
        # Separate processes, one thread each: small nets use two cores better this way than with two
        # intra-op threads, and each run is seeded, so the results do not depend on the worker count.
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(args.workers, mp_context=ctx, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            results = list(pool.map(train_and_score, *zip(*jobs), *zip(*[(args, real)] * len(jobs))))
    else:
        results = [train_and_score(row, seed, args, real) for row, seed in jobs]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else (f"cpu ({args.workers} workers x 1 thread)" if args.workers > 1 else f"cpu ({torch.get_num_threads()} threads)")
    # What it costs on unshared cores, whatever else ran: this process, plus the workers' runs.
    cpu_minutes = (time.process_time() - cpu_start + (sum(r["cpu_seconds"] for r in results) if args.workers > 1 else 0)) / 60
    table = markdown_table(results, rows, noise_ceiling, args, (time.monotonic() - start) / 60, device, cpu_minutes)
    (out / "table.md").write_text(table)
    summary = {"benchmark": "losses_fashion_mnist", "quick": args.quick, "device": device, "noise_ceiling_domain_fid": noise_ceiling, "seconds": time.monotonic() - start, "cpu_minutes": cpu_minutes, "results": results, "table": str(out / "table.md")}
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    print(table, file=sys.stderr)
    return summary


if __name__ == "__main__":
    main()
