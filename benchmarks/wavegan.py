"""WaveGAN on the Free Spoken Digit Dataset, scored as Donahue et al. 2019 score SC09 (section 6.1).

Trains the quick preset ``wavegan-fsdd`` (unless ``--run`` holds a trained run already), draws ``--n`` clips and
scores them, beside the real test split and white noise, with the spoken-digit classifier shipped with gankit
(``fsdd-classifier``, :mod:`gankit.metrics.audio_classifier`): the Inception-score analogue (one split over the
first 300 clips of each set, the size of the real test split, so the sets compare; and over all clips), the
Frechet distance of the classifier's 64-d features to the real test split, how often each digit is heard, the share
of energy above 4 kHz (none in the 8 kHz recordings) and the share of near-silent frames.
Published anchors (SC09, a different and larger data set with its own classifier): real test 8.01, WaveGAN 4.67.
Writes ``results.json``, ``table.md``, ``spectrograms.png`` (8 generated clips above 4 real test clips, titled
with the classifier's digit and its probability) and three generated WAVs to ``--out``; prints the JSON.

    OMP_NUM_THREADS=1 python benchmarks/wavegan.py --data ../shared/data/fsdd     # trains first: <= 28 min (the guard)
    OMP_NUM_THREADS=1 python benchmarks/wavegan.py --run runs/wavegan-fsdd-quick  # scores an existing run

A run at another rate (``data.sample_rate=8000``) is scored after resampling its clips to 16 kHz by the filter
that brings the 8 kHz recordings to 16 kHz for the classifier (:func:`gankit.data.audio.resample`), so generated
and real clips reach the classifier by the same route.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from common import hardware, train_once, write_results  # noqa: E402  (benchmarks/common.py, beside this script)
import gankit  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.data.audio import SAMPLE_RATE, resample_clips, write_wav  # noqa: E402
from gankit.metrics.extractors import extract, get_extractor  # noqa: E402
from gankit.metrics.fid import fid  # noqa: E402
from gankit.metrics.inception_score import inception_score  # noqa: E402
from gankit.sound import save_spectrograms, spectrogram  # noqa: E402
from gankit.train.restore import run_config  # noqa: E402

PRESET = "wavegan-fsdd"
PUBLISHED = {"real (SC09 test)": 8.01, "WaveGAN (SC09)": 4.67}  # Donahue et al. 2019, Table 1
COMPARE_N = 300  # FSDD's test split: every set is also scored on its first 300 clips


def white_noise(n: int, length: int, seed: int = 0) -> torch.Tensor:
    """Gaussian white noise, peak-normalised per clip as the loader normalises real clips."""
    x = torch.randn(n, 1, length, generator=torch.Generator().manual_seed(seed))
    return x / x.abs().amax(dim=2, keepdim=True)


def band_and_silence(clips: torch.Tensor) -> tuple[float, float]:
    """Two things a generator of FSDD must learn: the share of energy above 4 kHz (the 8 kHz recordings have none:
    ~0 for real clips) and the share of 16 ms frames 40 dB or more below the clip's loudest (the silence around a
    word), both averaged over clips."""
    power = 10 ** (spectrogram(clips[:, 0], hop=256) / 10)  # [N, 257 bins, frames], floored at -80 dB
    high = float((power[:, 129:].sum((1, 2)) / power.sum((1, 2))).mean())  # bins 129-256: 4-8 kHz
    frames = power.sum(1)  # [N, frames]
    silent = float((frames < frames.amax(1, keepdim=True) * 1e-4).float().mean())
    return high, silent


def score(name: str, clips: torch.Tensor, feats: torch.Tensor, probs: torch.Tensor, real_test_feats: torch.Tensor):
    digits = probs.argmax(1)
    high, silent = band_and_silence(clips)
    return {
        "set": name,
        "clips": len(probs),
        "energy_above_4khz": high,
        "silent_frames": silent,
        "is_300": inception_score(probs[:COMPARE_N], splits=1)[0],
        "is_all": inception_score(probs, splits=1)[0],
        "frechet_to_test": fid(feats, real_test_feats),
        "mean_max_prob": float(probs.max(1).values.mean()),
        "digit_counts": torch.bincount(digits, minlength=probs.shape[1]).tolist(),
    }


def run_steps(run: Path) -> int:
    """The step of the run's newest checkpoint (the one ``gankit.sample`` loads)."""
    return int((run / "checkpoints" / "latest").read_text().strip().removeprefix("step_"))


def markdown_table(rows: list[dict], command: str, minutes: float, steps: int, train_s: float | None, hw: str) -> str:
    trained = f"{steps} generator steps" + (f" in {train_s / 60:.1f} min" if train_s else "")
    lines = [
        f"`{command}`: {minutes:.1f} min wall clock for scoring; the run: {trained}; on {hw}.",
        "Inception-score analogue (IS) with gankit's FSDD digit classifier; Frechet distance of its 64-d features "
        "to the real test split. Published (SC09, other data and classifier): real 8.01, WaveGAN 4.67.",
        "",
        f"| set | clips | IS (first {COMPARE_N}) | IS (all) | Frechet to test | energy > 4 kHz | silent frames | "
        "digits heard (0-9) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['set']} | {r['clips']} | {r['is_300']:.2f} | {r['is_all']:.2f} | "
                     f"{abs(r['frechet_to_test']):.2f} | {r['energy_above_4khz']:.3f} | {r['silent_frames']:.2f} | "
                     f"{' '.join(map(str, r['digit_counts']))} |")  # fmt: skip
    for name, value in PUBLISHED.items():
        lines.append(f"| {name} (published) | | {value:.2f} | | | | | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fsdd"), help="folder of FSDD's WAVs")
    p.add_argument("--run", default=None, help="trained here if absent (default: runs/wavegan-fsdd-quick)")
    p.add_argument("--n", type=int, default=1000, help="generated clips to score")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "wavegan"))
    p.add_argument("--preset", default=PRESET, help="the config trained when --run does not exist yet")
    p.add_argument("--label", default=None, help="the generated set's row name (default: WaveGAN (PRESET))")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    run, out = Path(args.run or ROOT / "runs" / "wavegan-fsdd-quick"), Path(args.out)
    train = train_once(args.preset, run, [f"data.root={args.data}"])
    rate = run_config(run).data.sample_rate or SAMPLE_RATE

    start = time.monotonic()
    test = load_dataset("fsdd", "test", root=args.data)
    assert test.y is not None
    native = gankit.sample(run, n=args.n, seed=0)  # [n, 1, 16384] at 16 kHz ([n, 1, 8192] at 8 kHz)
    fake = resample_clips(native, rate)  # the classifier's 16 kHz, by the loader's filter
    noise = white_noise(args.n, test.x.shape[-1])
    ex = get_extractor("fsdd-classifier")
    (test_f, test_p), (fake_f, fake_p), (noise_f, noise_p) = (extract(ex, x) for x in (test.x, fake, noise))
    assert test_p is not None and fake_p is not None and noise_p is not None
    rows = [score("real test split", test.x, test_f, test_p, test_f), score("white noise", noise, noise_f, noise_p,
            test_f), score(args.label or f"WaveGAN ({args.preset})", fake, fake_f, fake_p, test_f)]  # fmt: skip
    rows[0]["classifier_accuracy"] = float((test_p.argmax(1) == test.y).float().mean())

    # The figure: 8 generated clips (the first 8 latents, not chosen) above 4 real test clips (one per digit 0-3).
    real_idx = [int((test.y == d).nonzero()[0]) for d in range(4)]
    clips = torch.cat([fake[:8], test.x[real_idx]])
    probs = torch.cat([fake_p[:8], test_p[real_idx]])
    names = ["G"] * 8 + [f"real {d}" for d in range(4)]  # the generated clips' digit is what the classifier hears
    titles = [f"{name} -> {int(q.argmax())} ({float(q.max()):.2f})" for name, q in zip(names, probs)]
    save_spectrograms(clips, out / "spectrograms.png", titles=titles)
    for i in range(3):  # the first three latents' clips, not chosen by ear
        write_wav(out / f"wavegan-{i}.wav", native[i], rate)

    minutes = (time.monotonic() - start) / 60
    steps = run_steps(run)
    command = f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} python benchmarks/wavegan.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))  # fmt: skip
    report = {"benchmark": "wavegan", "command": command, "hardware": hardware(), "run": str(run), "sample_rate": rate, "steps": steps,
              "train_seconds": train.get("seconds"), "score_minutes": minutes, "published": PUBLISHED,
              "classifier": ex.meta, "results": rows}  # fmt: skip
    write_results(out, "", report, markdown_table(rows, command, minutes, steps, train.get("seconds"), hardware()))
    return report


if __name__ == "__main__":
    main()
