"""Next-frame prediction on Moving MNIST (Mathieu, Couprie & LeCun 2016): MSE, MSE + GDL, MSE + GDL + adversarial.

Trains the three presets ``nextframe-{mse,gdl,adv}-moving-mnist`` one after another (never two at once), scores
each run's last checkpoint on the test split (:func:`gankit.next_frame.test_scores`: PSNR, SSIM and sharpness
difference at every horizon t+1..t+K, the frames after the first predicted recursively), and draws a figure of
predicted sequences: per test sequence, context | truth, then the MSE, GDL and adversarial predictions, the last
drawn ``--samples`` times (noise and dropout seeds 0, 1, ...). Writes ``results[-quick].json``,
``table[-quick].md`` and ``figure[-quick].png`` to ``--out`` and prints the JSON.

    OMP_NUM_THREADS=1 python benchmarks/next_frame.py --quick      # the presets' 2,000 steps each
    OMP_NUM_THREADS=1 python benchmarks/next_frame.py              # 3x the steps
    python benchmarks/next_frame.py --smoke    # a check of the script (seconds), into a temporary folder

A run directory that exists already (``--runs``/MODEL) is scored again, not retrained. Every hyper-parameter of
the presets was chosen on the validation sequences carved from the training split (``eval_psnr``,
``eval_sharpness`` in each run's metrics.csv); the test split is read here only.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

import gankit  # noqa: E402
from common import hardware, train_once, write_results  # noqa: E402  (benchmarks/common.py, beside this script)
from gankit.config import load_config  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.next_frame import draw_futures, test_scores  # noqa: E402
from gankit.previews import frame_strips  # noqa: E402

MODELS = {"mse": "MSE", "gdl": "MSE + GDL", "adv": "MSE + GDL + adversarial"}
FULL_FACTOR = 3  # without --quick: the presets' steps times this
FIGURE_SEQUENCES = (0, 1, 2)  # test sequences in the figure: the first three, not picked by eye
# --smoke: the presets at 2 steps on 32 x 32 frames, G and D of width 2, 16 validation sequences, scored at t+1 only
# (the test split's 500 sequences stay: SSIM on them is most of the time)
SMOKE = ["train.steps=2", "data.img_size=32", "nextframe.width=2", "nextframe.d_width=2", "nextframe.val_size=16"]
ANCHOR = ("none on this data: Mathieu et al. 2016 report PSNR and sharpness on UCF101 and Sports1m (natural video); "
          "the check here is the order of the three losses, not a published value")


def train_model(model: str, dataset: str, steps: int | None, args) -> dict:
    run_dir = Path(args.runs) / model
    overrides = SMOKE if args.smoke else [f"train.steps={steps}"] if steps else []
    t = train_once(f"nextframe-{model}-{dataset}", run_dir, overrides, args.progress)
    with open(run_dir / "metrics.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("eval_psnr")]
    last = rows[-1] if rows else {}
    val = {k.removeprefix("eval_"): float(v) for k, v in last.items() if k.startswith("eval_") and v}
    out = {"model": model, "steps": t["steps"], "train_seconds": t["seconds"], "val": val, **test_scores(run_dir, horizon=1 if args.smoke else None)}
    print(json.dumps({k: v for k, v in out.items() if k != "val"}), file=sys.stderr, flush=True)
    return out


def checks(results: dict[str, dict]) -> dict[str, bool]:
    """Acceptance: MSE has the best PSNR at t+1; the adversarial model the best sharpness at every horizon."""
    mse, gdl, adv = (results[m] for m in MODELS)
    return {
        "mse_wins_psnr_t1": mse["psnr"][0] > max(gdl["psnr"][0], adv["psnr"][0]),
        "adv_wins_sharpness_every_horizon": all(
            a > max(m, g) for a, m, g in zip(adv["sharpness"], mse["sharpness"], gdl["sharpness"])
        ),
        # not an acceptance line: fine detail kept, wherever it is (absent from results older than the column)
        "adv_hf_ratio_nearest_1_every_horizon": "hf_ratio" in adv and all(
            abs(a - 1) < min(abs(m - 1), abs(g - 1))
            for a, m, g in zip(adv["hf_ratio"], mse["hf_ratio"], gdl["hf_ratio"])
        ),
    }


def markdown_table(results: dict[str, dict], command: str, minutes: float, hardware: str) -> str:
    k = results["mse"]["horizons"]
    lines = [
        f"`{command}`: {minutes:.1f} min wall clock on {hardware}; training "
        + ", ".join(f"{m} {results[m]['train_seconds'] / 60:.1f} min ({results[m]['steps']} steps)" for m in MODELS)
        + f". Test split: {results['mse']['sequences']} sequences, 4 context frames, horizons t+1..t+{k} "
        "(recursive). Higher is better in every column but the high-frequency ratio (fine detail against the true "
        "frame's, best nearest 1); best per horizon in bold.",
        "",
    ]
    columns = (("psnr", "PSNR (dB)", ".2f"), ("ssim", "SSIM", ".3f"), ("sharpness", "sharpness (dB)", ".2f"),
               ("hf_ratio", "high-frequency ratio", ".2f"))  # fmt: skip
    for key, name, fmt in columns:
        if any(key not in results[m] for m in MODELS):  # results written before the column existed
            continue
        lines += [f"| {name} | " + " | ".join(f"t+{h + 1}" for h in range(k)) + " |", "|---" * (k + 1) + "|"]
        # the ratio is best nearest 1 (as much fine detail as the true frame), every other score highest
        closeness = (lambda v: -abs(v - 1)) if key == "hf_ratio" else (lambda v: v)
        best = [max(closeness(results[m][key][h]) for m in MODELS) for h in range(k)]
        for m, label in MODELS.items():
            cells = [f"{v:{fmt}}" for v in results[m][key]]
            cells = [f"**{c}**" if closeness(results[m][key][h]) == best[h] else c for h, c in enumerate(cells)]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def figure(runs: Path, dataset: str, horizon: int, samples: int, path: Path) -> Path:
    """Per test sequence: context | truth, then MSE, GDL and ``samples`` adversarial futures (blank context)."""
    cfg = gankit.run_config(runs / "mse")
    k, size = cfg.nextframe.context, cfg.data.img_size  # the frames the runs were trained on
    seqs = load_dataset(dataset, split="test", img_size=size).x[list(FIGURE_SEQUENCES), : k + horizon]
    preds = {m: draw_futures(runs / m, seqs, samples if m == "adv" else 1, horizon) for m in MODELS}
    blank = torch.ones_like(seqs[0, :k])
    rows, labels = [], []
    for i in range(len(seqs)):
        rows.append(seqs[i])
        labels.append("context | truth")
        for m, name in MODELS.items():
            for s in range(preds[m].shape[0]):
                rows.append(torch.cat([blank, preds[m][s, i]]))
                labels.append(name + (f" #{s + 1}" if preds[m].shape[0] > 1 else ""))
    img = (frame_strips(torch.stack(rows), split=k)[0] + 1) / 2  # H' x W' in [0, 1]
    h = seqs.shape[-1] + 2
    fig, ax = plt.subplots(figsize=(img.shape[1] / 60 + 2.2, img.shape[0] / 60))
    ax.imshow(img.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks([2 + h * r + h / 2 - 1 for r in range(len(rows))], labels, fontsize=7)
    names = [f"t-{k - 1 - j}" if j < k - 1 else "t" if j == k - 1 else f"t+{j - k + 1}" for j in range(k + horizon)]
    ax.set_xticks([2 + h * j + h / 2 + (6 if j >= k else 0) for j in range(k + horizon)], names, fontsize=7)
    ax.tick_params(length=0)
    ax.set_title(f"{dataset} test sequences: {k} context frames, predictions t+1..t+{horizon} (recursive)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the presets' steps (else FULL_FACTOR times as many)")
    p.add_argument("--dataset", default="moving-mnist", choices=["moving-mnist"])
    p.add_argument("--samples", type=int, default=3, help="futures drawn from the adversarial model in the figure")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "next-frame"))
    p.add_argument("--runs", default=None, help="where the runs go (default runs/next-frame[-quick])")
    p.add_argument("--progress", action="store_true")
    p.add_argument("--smoke", action="store_true", help="every step in seconds: 2 steps of tiny nets a preset, scored "
                   "at t+1, runs and results in a new temporary folder (a check of the script, not a result)")
    args = p.parse_args(argv)
    if args.smoke:
        tmp = Path(tempfile.mkdtemp(prefix="next-frame-smoke-"))
        args.out, args.runs = str(tmp / "results"), str(tmp / "runs")
    suffix = "-quick" if args.quick else ""
    args.runs = args.runs or str(ROOT / "runs" / f"next-frame{suffix}")

    start = time.monotonic()
    results = {}
    for model in MODELS:  # one after another: each run uses the whole (single-thread) budget
        steps = None if args.quick else FULL_FACTOR * load_config(f"nextframe-{model}-{args.dataset}").train.steps
        results[model] = train_model(model, args.dataset, steps, args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure(Path(args.runs), args.dataset, results["mse"]["horizons"], args.samples, out / f"figure{suffix}.png")
    minutes = (time.monotonic() - start) / 60
    command = "OMP_NUM_THREADS=1 python benchmarks/next_frame.py" + (" --quick" if args.quick else "")
    table = markdown_table(results, command, minutes, hardware())
    report = {"benchmark": "next_frame", "command": command, "hardware": hardware(), "minutes": minutes,
              "anchor": ANCHOR, "checks": checks(results), "results": results}  # fmt: skip
    write_results(out, suffix, report, table)
    return report


if __name__ == "__main__":
    main()
