"""Evaluation speed, Inception's two backends side by side, and the FID floor/ceiling table; prints JSON.

    python benchmarks/eval_speed.py                       # speed: features/s, evaluate wall time
    python benchmarks/eval_speed.py --floor-ceiling --run runs/default   # the README's table, n = 1,000 for Inception
    python benchmarks/eval_speed.py --inception-backends  # TorchScript vs ONNX Runtime: features/s, agreement, FID
    python benchmarks/eval_speed.py --inception-backends --smoke   # a check of the script (seconds), temporary folder

Inception backends: features/s of the FID Inception through ``gankit.metrics.extract`` with the plain TorchScript
file (``backend="torchscript"``, gankit's route before ONNX Runtime) and with ONNX Runtime (the default when
installed), alternated, best of ``--repeats``, at each batch size and torch thread count (ONNX Runtime gets as many
intra-op threads); the agreement of their 2048-d features on the same test images (the largest per-image
max |new - old| / max |old|, and the relative Frobenius norm of the difference); the FID of ``--fid-n`` train
against ``--fid-n`` test images with each backend, and with the reference features of the old one (a cache
written before) against the new one's; the wall time of ``gankit.metrics.fid`` at 10,000 x 2048; and the
projected wall time of a 10,000-sample Inception FID (test features cached): 10,000 / the fastest row's features/s
+ that.
Written to ``benchmarks/results/inception-speed/`` with the hardware, date and load average.

Speed: features/s of each extractor through gankit (``gankit.metrics.extract``) and through a bare
forward loop over the same network (the same preprocessed batches, no gankit code), in the same run;
and the wall time of ``gankit evaluate`` with the domain classifier on 10,000 samples (an .npz of
generated or test images; reference features cached first, as in normal use).

Floor/ceiling: FID of the Fashion-MNIST train split (n images) against the test split (n images), the
floor; and of uniform noise images against the test split, the ceiling; per extractor; with ``--run DIR``
also the FID of n samples of that run (``gankit.sample``, seed 0) at the same n, the README's last column.
Written to ``benchmarks/results/floor-ceiling/`` (``results.json``, ``table.md``) with the hardware and date.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def _speed(name: str, n: int, repeats: int = 3) -> dict:
    from gankit.data import load_dataset
    from gankit.metrics.extractors import extract, get_extractor, inception_input, quantize

    ex = get_extractor(name)
    x = load_dataset("fashion-mnist", split="test").x[:n]
    extract(ex, x[: ex.batch_size])  # warm-up

    def bare() -> None:  # the network alone on the same batches, preprocessing written out by hand
        with torch.inference_mode():
            for xb in x.split(ex.batch_size):
                if name == "inception":
                    ex.forward(inception_input(xb))  # the network alone, through the extractor's backend
                else:
                    ex.net.features_and_logits(quantize(xb) / 127.5 - 1.0)

    # alternate the two, best of `repeats` each: the CPU is shared, so single timings are noisy
    best = {"gankit": float("inf"), "bare": float("inf")}
    for _ in range(repeats):
        for key, fn in (("gankit", lambda: extract(ex, x)), ("bare", bare)):
            t = time.perf_counter()
            fn()
            best[key] = min(best[key], time.perf_counter() - t)
    gankit_fps, bare_fps = n / best["gankit"], n / best["bare"]
    backend = {"backend": ex.backend} if name == "inception" else {}
    return {
        "images": n,
        **backend,
        "batch_size": ex.batch_size,
        "gankit_features_per_s": gankit_fps,
        "bare_forward_per_s": bare_fps,
        "ratio": gankit_fps / bare_fps,
        "repeats": repeats,
    }


def _evaluate_wall(n: int, source: str | None) -> dict:
    from gankit.data import load_dataset
    from gankit.images import to_uint8
    from gankit.metrics.reference import reference_features

    reference_features("fashion-mnist", "test", "fashion-mnist-classifier", n)  # cached, as after a first run
    reference_features("fashion-mnist", "train", "fashion-mnist-classifier", 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            source = str(Path(tmp) / "test.npz")
            np.savez(source, images=to_uint8(load_dataset("fashion-mnist", split="test").x[:n]))
        cmd = [
            sys.executable,
            "-m",
            "gankit",
            "evaluate",
            source,
            "-n",
            str(n),
            "--no-progress",
            "--json",
            str(Path(tmp) / "r.json"),
            "--out-dir",
            tmp,
        ]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        wall = time.perf_counter() - t
        res = json.loads((Path(tmp) / "r.json").read_text())
    return {
        "command": " ".join(["gankit", "evaluate", source, "-n", str(n)]),
        "wall_s": wall,
        "n": n,
        "target_s": 60,
        "fid": res.get("fid"),
    }


def floor_ceiling(extractor: str, n: int, run: str | None = None) -> dict:
    from gankit.metrics.extractors import extract
    from gankit.metrics.fid import fid
    from gankit.metrics.reference import reference_features

    test_f = reference_features("fashion-mnist", "test", extractor, n, progress=True)[0]
    train_f = reference_features("fashion-mnist", "train", extractor, n, progress=True)[0]
    noise = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    noise_f = extract(extractor, noise, progress=True, desc="uniform noise")[0]
    out = {
        "extractor": extractor,
        "n": n,
        "floor_train_vs_test": fid(train_f, test_f),
        "ceiling_noise_vs_test": fid(noise_f, test_f),
    }
    if run is not None:
        import gankit

        samples = gankit.sample(run, n, seed=0)
        out |= {
            "run": run,
            "run_vs_test": fid(extract(extractor, samples, progress=True, desc="run samples")[0], test_f),
        }
    return out


def _write_floor_ceiling(rows: list[dict], command: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import hardware, write_results  # benchmarks/common.py

    report = {"command": command, "hardware": hardware(), "date": time.strftime("%Y-%m-%d"), "rows": rows}
    lines = [f"`{command}` on {report['hardware']}, {report['date']}.", "",
             "| extractor | n per side | floor: train vs test | ceiling: uniform noise vs test | the run |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in rows:
        run = f"{r['run_vs_test']:.1f} (`{r['run']}`)" if "run" in r else "-"
        lines.append(
            f"| `{r['extractor']}` | {r['n']:,} | {r['floor_train_vs_test']:.2f} | {r['ceiling_noise_vs_test']:.1f} | {run} |"
        )
    write_results(Path(__file__).resolve().parent / "results" / "floor-ceiling", "", report, "\n".join(lines) + "\n")


def _agreement(new: torch.Tensor, old: torch.Tensor) -> dict:
    per_image = ((new - old).abs().amax(1) / old.abs().amax(1)).max()
    return {
        "max_per_image_rel": float(per_image),
        "frobenius_rel": float(torch.linalg.norm(new - old) / torch.linalg.norm(old)),
    }


def inception_backends(n: int, batch_sizes: list[int], threads: list[int], repeats: int, fid_n: int) -> dict:
    """TorchScript (old) against ONNX Runtime (new) on the same test images: speed, agreement, FID (see above)."""
    from gankit.data import load_dataset
    from gankit.metrics.extractors import InceptionExtractor, extract
    from gankit.metrics.fid import fid

    test, train = (load_dataset("fashion-mnist", split=s).x for s in ("test", "train"))
    x, rows, exs, load_before = test[:n], [], {}, os.getloadavg()[0]  # the rows' load averages include this run
    for t in threads:
        torch.set_num_threads(t)  # ONNX Runtime takes torch's thread count when its session is made
        exs = {"old": InceptionExtractor(backend="torchscript"), "new": InceptionExtractor(backend="onnxruntime")}
        for ex in exs.values():
            extract(ex, x[:2])  # warm-up: the TorchScript profiling runs, ONNX Runtime's arena
        for bs in batch_sizes:
            load, best = os.getloadavg()[0], {"old": float("inf"), "new": float("inf")}
            for _ in range(repeats):  # alternated, best of `repeats`: the CPU is shared, single timings are noisy
                for key, ex in exs.items():
                    start = time.perf_counter()
                    extract(ex, x, batch_size=bs)
                    best[key] = min(best[key], time.perf_counter() - start)
            row = {"threads": t, "batch_size": bs, "old_features_per_s": n / best["old"],
                   "new_features_per_s": n / best["new"], "speedup": best["old"] / best["new"], "load_avg_1min": load}  # fmt: skip
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    feats = {k: {s: extract(ex, d[:fid_n])[0] for s, d in (("test", test), ("train", train))} for k, ex in exs.items()}
    fids = {k: fid(f["train"], f["test"]) for k, f in feats.items()}
    fids["mixed"] = fid(feats["new"]["train"], feats["old"]["test"])  # reference cached by the old backend
    big = torch.randn(10_000, 2048, generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    fid(big, big.roll(1, 0) * 1.01)
    fid_s = time.perf_counter() - start
    best = max(rows, key=lambda r: r["new_features_per_s"])  # the fastest row: its threads and batch size
    return {
        "images": n, "repeats": repeats, "load_avg_1min_before": load_before, "rows": rows,
        "agreement": _agreement(feats["new"]["test"], feats["old"]["test"]),
        "fid": {"n": fid_n, "torchscript": fids["old"], "onnxruntime": fids["new"], "mixed_new_vs_cached_old": fids["mixed"],
                "abs_diff": abs(fids["new"] - fids["old"])},
        "fid_seconds_10k_2048": fid_s,
        "projected_fid_10k_s": 10_000 / best["new_features_per_s"] + fid_s,
        "projected_at": {"threads": best["threads"], "batch_size": best["batch_size"]},
    }  # fmt: skip


def _write_backends(report: dict, out: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import hardware, write_results  # benchmarks/common.py

    report = {
        "command": report.pop("command"),
        "hardware": hardware(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        **report,
    }
    a, f = report["agreement"], report["fid"]
    lines = [f"`{report['command']}` on {report['hardware']}, {report['date']}; {report['images']} test images, "
             f"best of {report['repeats']} alternated timings; load average {report['load_avg_1min_before']:.2f} before "
             "the run (a row's includes the run itself).", "",
             "| threads (torch, ONNX Runtime) | batch size | TorchScript features/s | ONNX Runtime features/s | speed-up | load avg (1 min) |",
             "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in report["rows"]:
        lines.append(f"| {r['threads']} | {r['batch_size']} | {r['old_features_per_s']:.2f} | {r['new_features_per_s']:.2f} "
                     f"| {r['speedup']:.2f}x | {r['load_avg_1min']:.2f} |")  # fmt: skip
    lines += ["", f"Features (2048-d, {f['n']} test images): largest per-image max|new - old| / max|old| "
              f"{a['max_per_image_rel']:.1e}, relative Frobenius {a['frobenius_rel']:.1e}.",
              f"FID, {f['n']} train vs {f['n']} test images: TorchScript {f['torchscript']:.5f}, ONNX Runtime "
              f"{f['onnxruntime']:.5f} (difference {f['abs_diff']:.1e}), new features against the old backend's "
              f"(a reference cached before) {f['mixed_new_vs_cached_old']:.5f}.",
              f"`gankit.metrics.fid` on 10,000 x 2048 features: {report['fid_seconds_10k_2048']:.1f} s. Projected "
              f"10,000-sample Inception FID (test features cached) at the fastest row ({report['projected_at']['threads']} "
              f"thread(s), batch {report['projected_at']['batch_size']}): "
              f"{report['projected_fid_10k_s'] / 60:.1f} min."]  # fmt: skip
    write_results(out, "", report, "\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--floor-ceiling", action="store_true", help="compute the FID floor/ceiling table instead of the speeds"
    )
    ap.add_argument(
        "--inception-n",
        type=int,
        default=None,
        help="images for Inception (about 3-9 images/s on 2 cores; default 1,000 for --floor-ceiling, else 200)",
    )
    ap.add_argument("--run", help="--floor-ceiling: also score n samples of this run directory")
    ap.add_argument("--classifier-n", type=int, default=10_000)
    ap.add_argument("--source", help="an .npz of samples for the evaluate timing (default: 10,000 test images)")
    ap.add_argument("--skip-inception", action="store_true")
    ap.add_argument("--inception-backends", action="store_true", help="TorchScript vs ONNX Runtime for Inception")
    ap.add_argument("--batch-sizes", default="10,25,50,100", help="--inception-backends: comma-separated")
    ap.add_argument("--threads", default="1,2", help="--inception-backends: torch thread counts, comma-separated")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--fid-n", type=int, default=200, help="--inception-backends: images per side of the FID check")
    ap.add_argument(
        "--smoke", action="store_true", help="--inception-backends on 4 images, one thread, temporary folder"
    )
    args = ap.parse_args()
    if args.inception_backends:
        out = Path(__file__).resolve().parent / "results" / "inception-speed"
        if args.smoke:
            args.inception_n, args.batch_sizes, args.threads, args.repeats, args.fid_n = 4, "2", "1", 1, 4
            out = Path(tempfile.mkdtemp(prefix="inception-speed-smoke-"))
        n, ints = args.inception_n or 100, lambda v: [int(b) for b in v.split(",")]  # noqa: E731
        report = inception_backends(n, ints(args.batch_sizes), ints(args.threads), args.repeats, args.fid_n)
        _write_backends({"command": " ".join(["python benchmarks/eval_speed.py", *sys.argv[1:]]), **report}, out)
        return
    out: dict = {"torch_threads": torch.get_num_threads(), "torch": torch.__version__}
    names = ["fashion-mnist-classifier"] + ([] if args.skip_inception else ["inception"])
    if args.floor_ceiling:
        inception_n = args.inception_n or 1000
        rows = [floor_ceiling(nm, args.classifier_n if nm != "inception" else inception_n, args.run) for nm in names]
        _write_floor_ceiling(rows, "python " + " ".join(["benchmarks/eval_speed.py", *sys.argv[1:]]))
        return
    else:
        out["features_per_s"] = {
            nm: _speed(nm, args.classifier_n if nm != "inception" else args.inception_n or 200) for nm in names
        }
        out["evaluate_classifier_10k"] = _evaluate_wall(args.classifier_n, args.source)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
