"""SEGAN on noisy FSDD, scored as Pascual et al. 2017 score VCTK + DEMAND (Table 1): segmental SNR, PESQ, STOI.

Trains the quick preset ``segan-fsdd`` (unless ``--run`` holds a trained run already), enhances the held-out
speakers' noisy clips (``fsdd-noisy`` split ``test``: two speakers no training or validation clip comes from, white,
speech-shaped and babble noise at 2.5, 7.5, 12.5 and 17.5 dB, :mod:`gankit.data.noisy_speech`) and scores, against
the clean clips: the noisy input itself, a Wiener filter (below), SEGAN, and any other segan run named by ``--also``
(an L1-only run, a longer run). Published anchors (VCTK + DEMAND, other speakers, noises and recordings: a
different test): noisy PESQ 1.97 / SSNR 1.68, Wiener 2.22 / 5.07, SEGAN 2.16 / 7.73.

The Wiener filter: a short-time spectral gain snr / (1 + snr) per bin (512-sample Hann windows, hop 128), with the
a-priori SNR estimated by power subtraction, max(|Y|^2 / N - 1, 0), floored at -20 dB, where the noise power N of
each bin is the mean over the clip's first and last 0.1 s: FSDD's words sit in the middle of the clip, so its
edges hold noise alone (an advantage a real-world filter does not have).

Writes ``results.json``, ``table.md``, ``spectrograms.png`` (two test clips: noisy, Wiener, SEGAN, clean) and
WAVs of one clip (noisy, SEGAN, clean) to ``--out``; prints the JSON.

    OMP_NUM_THREADS=1 python benchmarks/segan.py --data ../shared/data/fsdd      # trains first: <= 28 min (the guard)
    OMP_NUM_THREADS=1 python benchmarks/segan.py --run runs/segan-fsdd            # scores an existing run
    OMP_NUM_THREADS=1 python benchmarks/segan.py --split val --n 200 --run RUN      # the validation speaker (lucas)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from common import hardware, train_once, write_results  # noqa: E402  (benchmarks/common.py, beside this script)
from gankit.data.audio import write_wav  # noqa: E402
from gankit.data.noisy_speech import NOISE_KINDS, TEST_SNRS, noisy_fsdd  # noqa: E402
from gankit.metrics.audio_quality import pesq_score, segmental_snr, stoi_score  # noqa: E402
from gankit.sound import save_spectrograms  # noqa: E402
from gankit.train.restore import load_method  # noqa: E402

PRESET = "segan-fsdd"
PUBLISHED = {  # Pascual et al. 2017, Table 1 (VCTK + DEMAND test set): PESQ (wide band), SSNR (dB)
    "Noisy (published, VCTK + DEMAND)": {"pesq": 1.97, "segsnr": 1.68},
    "Wiener (published, VCTK + DEMAND)": {"pesq": 2.22, "segsnr": 5.07},
    "SEGAN (published, VCTK + DEMAND)": {"pesq": 2.16, "segsnr": 7.73},
}
N_FFT, HOP, EDGE = 512, 128, 1600  # EDGE: 0.1 s at 16 kHz


def wiener(noisy: torch.Tensor, floor_db: float = -20.0) -> torch.Tensor:
    """The Wiener filter of the module docstring on N x 1 x T clips (noise from each clip's first and last 0.1 s)."""
    x = noisy[:, 0].double()
    w = torch.hann_window(N_FFT, dtype=torch.float64)
    spec = torch.stft(x, N_FFT, HOP, window=w, return_complex=True)  # [N, bins, frames]
    power = spec.abs().square()
    edge = torch.cat([x[:, :EDGE], x[:, -EDGE:]], 1)  # [N, 2 * EDGE]: noise alone
    nspec = torch.stft(edge, N_FFT, HOP, window=w, return_complex=True, center=False)
    noise = nspec.abs().square().mean(-1, keepdim=True).clamp_min(1e-12)  # [N, bins, 1]
    snr = (power / noise - 1).clamp_min(0)
    gain = (snr / (1 + snr)).clamp_min(10 ** (floor_db / 20))
    out = torch.istft(spec * gain, N_FFT, HOP, window=w, length=x.shape[-1])
    return out.float()[:, None]


def per_clip(clean: torch.Tensor, estimate: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"segsnr": segmental_snr(clean, estimate)[:, 0], "pesq": pesq_score(clean, estimate),
            "stoi": stoi_score(clean, estimate)}  # fmt: skip


def nanmean(x: torch.Tensor) -> float:
    ok = ~x.isnan()
    return float(x[ok].mean()) if ok.any() else float("nan")


def summary(name: str, scores: dict[str, torch.Tensor], kinds: torch.Tensor, snrs: torch.Tensor) -> dict:
    row: dict = {"system": name, **{k: nanmean(v) for k, v in scores.items()}}
    row["clips_without_pesq"] = int(scores["pesq"].isnan().sum())
    row["clips_without_stoi"] = int(scores["stoi"].isnan().sum())
    row["by_snr"] = {f"{s:g}": {k: nanmean(v[snrs == s]) for k, v in scores.items()} for s in TEST_SNRS}
    row["by_noise"] = {n: {k: nanmean(v[kinds == i]) for k, v in scores.items()} for i, n in enumerate(NOISE_KINDS)}
    return row


def run_steps(run: Path) -> int:
    """The step of the run's newest checkpoint (the one ``load_method`` loads)."""
    return int((run / "checkpoints" / "latest").read_text().strip().removeprefix("step_"))


def enhance_all(run: Path, noisy: torch.Tensor) -> torch.Tensor:
    method, _ = load_method(run)
    return method.enhance(noisy)


def markdown_table(rows: list[dict], command: str, minutes: float, train: dict, n: int, hw: str,
                   speakers: str) -> str:
    trained = f"{train['steps']} steps" + (f" in {train['seconds'] / 60:.1f} min" if train.get("seconds") else "")
    lines = [
        f"`{command}`: {minutes:.1f} min wall clock for scoring; SEGAN run: {trained}; on {hw}.",
        f"{n} noisy clips of FSDD's speakers {speakers} (white, speech-shaped and babble noise at "
        "2.5-17.5 dB). Published rows: Pascual et al. 2017 Table 1 on VCTK + DEMAND, a different test set.",
        "",
        f"| system | PESQ (wb) | SSNR (dB) | STOI | SSNR at {' / '.join(f'{s:g}' for s in TEST_SNRS)} dB | SSNR "
        "white / speech-shaped / babble |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        by_snr = " / ".join(f"{r['by_snr'][f'{s:g}']['segsnr']:.2f}" for s in TEST_SNRS)
        by_noise = " / ".join(f"{r['by_noise'][k]['segsnr']:.2f}" for k in NOISE_KINDS)
        lines.append(f"| {r['system']} | {r['pesq']:.2f} | {r['segsnr']:.2f} | {r['stoi']:.3f} | {by_snr} | "
                     f"{by_noise} |")  # fmt: skip
    for name, v in PUBLISHED.items():
        lines.append(f"| {name} | {v['pesq']:.2f} | {v['segsnr']:.2f} | | | |")
    lines += ["", f"PESQ left out {rows[0]['clips_without_pesq']} clip(s) without a detected utterance; STOI left "
              f"out {rows[0]['clips_without_stoi']} clip(s) of the noisy input shorter than its 384 ms segments."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fsdd"), help="folder of FSDD's WAVs")
    p.add_argument("--run", default=str(ROOT / "runs" / "segan-fsdd"), help="trained here if absent")
    p.add_argument("--also", action="append", default=[], metavar="LABEL=DIR",
                   help="another segan run to score beside the preset's (repeatable), e.g. an L1-only run "
                   "(segan.adv_weight=0) or a longer one")
    p.add_argument("--label", default=None, help="the --run's row in the table (default: SEGAN (segan-fsdd, N steps))")
    p.add_argument("--n", type=int, default=1000, help="clips to score (the first N of the split)")
    p.add_argument("--split", choices=["test", "val"], default="test",
                   help="val: the validation speaker, for choosing settings (writes results-val.json ...)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "segan"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    run, out = Path(args.run), Path(args.out)
    train = train_once(PRESET, run, [f"data.root={args.data}"])
    train["steps"] = run_steps(run)  # where the run stopped (train.minutes may end it early)

    start = time.monotonic()
    test = noisy_fsdd(args.data, args.split)
    suffix = "" if args.split == "test" else f"-{args.split}"
    clean, noisy, kinds, snrs = test.clean[: args.n], test.noisy[: args.n], test.kinds[: args.n], test.snrs[: args.n]
    outputs = {"Noisy input": noisy, "Wiener (noise from the clip's edges)": wiener(noisy)}
    label = f"{args.label} ({train['steps']} steps)" if args.label else f"SEGAN ({PRESET}, {train['steps']} steps)"
    outputs[label] = enhance_all(run, noisy)
    also = dict(item.split("=", 1) for item in args.also)
    for label, other in also.items():
        outputs[f"{label} ({run_steps(Path(other))} steps)"] = enhance_all(Path(other), noisy)
    rows = [summary(name, per_clip(clean, y), kinds, snrs) for name, y in outputs.items()]

    # Two test clips (the first babble and the first white-noise clip at 7.5 dB, not chosen by ear).
    picks = [int(torch.cat([((kinds == NOISE_KINDS.index(k)) & (snrs == 7.5)).nonzero(), (kinds == NOISE_KINDS.index(
        k)).nonzero()])[0]) for k in ("babble", "white")]  # fmt: skip
    segan = list(outputs.values())[-1]  # the figure and WAVs show the last run scored (the longest, when --also)
    show = {"noisy": noisy, "Wiener": outputs["Wiener (noise from the clip's edges)"], "SEGAN": segan, "clean": clean}
    clips = torch.cat([torch.stack([x[i] for x in show.values()]) for i in picks])
    titles = [f"{name}, {NOISE_KINDS[int(kinds[i])]} {float(snrs[i]):g} dB" for i in picks for name in show]
    save_spectrograms(clips, out / f"spectrograms{suffix}.png", titles=titles)
    for name, x in (("noisy", noisy), ("segan", segan), ("clean", clean)):
        write_wav(out / f"{name}-babble{suffix}.wav", x[picks[0]])

    minutes = (time.monotonic() - start) / 60
    command = f"OMP_NUM_THREADS=1 python benchmarks/segan.py --n {args.n}"
    command += f" --split {args.split}" if suffix else ""
    command += f" --run {args.run} --label '{args.label}'" if args.label else ""
    command += "".join(f" --also '{item}'" for item in args.also)
    report = {"benchmark": "segan", "command": command, "hardware": hardware(), "run": str(run), "also": also,
              "train": train, "score_minutes": minutes, "split": args.split, "speakers": sorted(set(test.speakers)),
              "published": PUBLISHED, "results": rows}  # fmt: skip
    write_results(out, suffix, report, markdown_table(rows, command, minutes, train, len(clean), hardware(),
                                                       ", ".join(report["speakers"])))
    return report


if __name__ == "__main__":
    main()
