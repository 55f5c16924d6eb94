"""A synthetic spoken-digit set made with the speech synthesiser espeak-ng: anyone can regenerate it, offline.

Each of the words "zero" ... "nine" is spoken by every combination of English accent (``voices``), voice variant
(``variants``: espeak-ng's male and female timbres), speaking rate (``speeds``, words per minute) and pitch
(``pitches``, 0-99), and written as ``OUT/<digit>/<voice>+<variant>_s<speed>_p<pitch>.wav`` (22,050 Hz, 16-bit).
The defaults make 7 x 6 x 3 x 3 = 378 clips per digit, 3,780 in all (18 s on a 2-core Intel Xeon). Leading and
trailing silence is trimmed (:func:`trim_silence`). The sub-folders are the labels, so ``data.name=folder:OUT``
reads the set as audio labelled 0-9 (:mod:`gankit.data.audio`), resampled to 16 kHz and centred in 16,384 samples
like FSDD.

espeak-ng is an optional system dependency (Debian and Ubuntu: ``apt-get install espeak-ng``); it is deterministic,
so the same arguments give byte-identical files. We call its command line rather than a Python binding because the
binding packages on PyPI wrap older espeak releases or need a compiler; the command line is the stable interface.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gankit.errors import UserError

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
VARIANTS = ("m1", "m3", "m5", "f1", "f3", "f5")
SPEEDS = (120, 160, 200)  # words per minute (espeak-ng's default: 175)
PITCHES = (35, 50, 65)  # 0-99 (default: 50)


def espeak_executable(name: str = "espeak-ng") -> str:
    """The path of espeak-ng, or a one-line error saying how to install it."""
    path = shutil.which(name)
    if path is None:
        raise UserError(f"{name}: not found on PATH; install it (Debian/Ubuntu: apt-get install espeak-ng)")
    return path


def clip_name(digit: int, voice: str, variant: str, speed: int, pitch: int) -> str:
    """The clip's path inside the set, ``<digit>/<voice>+<variant>_s<speed>_p<pitch>.wav``: the folder is its label."""
    return f"{digit}/{voice}+{variant}_s{speed}_p{pitch}.wav"


def trim_silence(path: Path, threshold: float = 0.01, margin_s: float = 0.01) -> None:
    """Cut a WAV file's leading and trailing silence in place: the samples before the first and after the last one
    above ``threshold`` x the peak, less a ``margin_s`` margin. espeak-ng pads each word with up to half a second of
    silence, mostly after it; trimmed, the word sits in the middle of the centred 1-second clip, as FSDD's do."""
    import numpy as np
    from scipy.io import wavfile

    rate, x = wavfile.read(path)
    loud = np.nonzero(np.abs(x.astype(np.float64)) > threshold * np.abs(x.astype(np.float64)).max())[0]
    if len(loud):
        margin = round(margin_s * rate)
        wavfile.write(path, rate, x[max(0, loud[0] - margin) : loud[-1] + margin + 1])


def synthesize_digits(
    out: str | Path,
    voices: tuple[str, ...] = VOICES,
    variants: tuple[str, ...] = VARIANTS,
    speeds: tuple[int, ...] = SPEEDS,
    pitches: tuple[int, ...] = PITCHES,
    executable: str = "espeak-ng",
    workers: int = 4,
) -> list[Path]:
    """Speak the ten digits in every combination of the settings into ``out`` (see the module's docstring).

    A clip that exists already is kept (the synthesiser is deterministic, so it would be the same), and each new
    one is written under a temporary name and renamed when complete, so an interrupted run leaves no half file.

    Returns:
        The paths of every clip of the set, new or kept, sorted.
    """
    exe = espeak_executable(executable)
    for name, values, low, high in (("speeds", speeds, 80, 450), ("pitches", pitches, 0, 99)):
        bad = [v for v in values if not low <= v <= high]
        if bad or not values:
            raise UserError(f"{name}: {list(values)} must be a non-empty list of integers in [{low}, {high}]")
    root = Path(out).expanduser()
    jobs = [
        (digit, clip_name(digit, voice, variant, speed, pitch), f"{voice}+{variant}", speed, pitch)
        for digit, voice, variant, speed, pitch in itertools.product(range(10), voices, variants, speeds, pitches)
    ]

    def speak(job: tuple[int, str, str, int, int]) -> Path:
        digit, name, voice, speed, pitch = job
        path = root / name
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        cmd = [exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(tmp), DIGIT_WORDS[digit]]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size <= 44:  # 44 bytes: a WAV header alone
            tmp.unlink(missing_ok=True)
            reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no audio written"]
            raise UserError(f"espeak-ng -v {voice}: {reason[0]}")
        trim_silence(tmp)
        tmp.replace(path)
        return path

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # each call is a separate process
        return sorted(pool.map(speak, jobs))
