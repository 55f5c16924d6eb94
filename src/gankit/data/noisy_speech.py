"""Noisy speech for enhancement (SEGAN): clean clips mixed with noise at chosen SNRs, held-out speakers for testing.

SEGAN (Pascual, Bonafonte & Serra 2017, section 5.1) trains on clean speech mixed with noise at 15, 10, 5 and 0 dB
and tests on other speakers and other noises at 17.5, 12.5, 7.5 and 2.5 dB (VCTK + DEMAND). Offline, gankit builds
the same kind of pairs from the Free Spoken Digit Dataset (:mod:`gankit.data.audio`) with noise it synthesises:

* ``white``: Gaussian white noise;
* ``speech-shaped``: Gaussian noise coloured to the long-term power spectrum of the group's recordings (random
  phases), stationary noise with speech's spectral tilt;
* ``babble``: the sum of :data:`BABBLE_TALKERS` other recordings of the same group, each rolled by a random shift so
  that the words overlap the target word anywhere in the clip.

Mixing (:func:`mix_at_snr`) scales the noise so that the whole clip's energy ratio is the SNR,
10 log10(sum s^2 / sum n^2); each pair is then scaled so that the noisy clip peaks at 1 (the SNR is unchanged).

FSDD's official split shares its six speakers between train and test, so enhancement is split by **speaker**
(:data:`SPEAKER_SPLITS`): three speakers train, one is the validation split (for choosing settings), two are the
held-out test split. Each split is mixed only with noise made from its own recordings, so no test voice reaches
training, not even as babble. The mixing is deterministic for a seed (``seed``; the registered datasets use 0).

Datasets (``x`` the clean clip, ``extra["noisy"]`` the noisy one, ``y`` the digit; splits ``train``, ``val``,
``test``): ``fsdd-noisy`` (``data.root`` = FSDD's WAV folder) and ``tones-noisy``, a small synthetic stand-in
(harmonic "syllables" of random pitch, no files) for smoke runs and tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from gankit.data.audio import CLIP_LENGTH, FSDD_NAME, SAMPLE_RATE, fsdd_root, load_clips
from gankit.data.base import TensorData, register
from gankit.errors import UserError

NOISE_KINDS = ("white", "speech-shaped", "babble")
TRAIN_SNRS = (15.0, 10.0, 5.0, 0.0)  # SEGAN's training SNRs (dB)
TEST_SNRS = (17.5, 12.5, 7.5, 2.5)  # SEGAN's test SNRs, also used for validation
BABBLE_TALKERS = 4
SPEAKER_SPLITS = {"train": ("george", "jackson", "yweweler"), "val": ("lucas",), "test": ("nicolas", "theo")}
SPLIT_SEEDS = {"train": 0, "val": 1, "test": 2}  # each split draws its own noise, whatever the seed


def mix_at_snr(clean: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor | float) -> torch.Tensor:
    """clean + g * noise with g chosen per item so that 10 log10(sum clean^2 / sum (g noise)^2) = ``snr_db``.

    Args:
        clean, noise: ... x T signals of the same shape.
        snr_db: the SNR in dB, a number or one per leading index.

    Returns:
        The mixture, the shape of ``clean``.
    """
    snr = torch.as_tensor(snr_db, dtype=torch.float64)
    e_s = clean.double().square().sum(-1)
    e_n = noise.double().square().sum(-1).clamp_min(1e-30)
    gain = torch.sqrt(e_s / (e_n * 10 ** (snr / 10)))  # e_s / (g^2 e_n) = 10^(snr / 10)
    return (clean.double() + gain[..., None] * noise.double()).to(clean.dtype)


def snr_db(clean: torch.Tensor, noisy: torch.Tensor) -> torch.Tensor:
    """The whole-clip SNR in dB of ``noisy`` against ``clean`` (... x T -> ...)."""
    e = (noisy.double() - clean.double()).square().sum(-1)
    return 10 * torch.log10(clean.double().square().sum(-1) / e)


def white_noise(n: int, length: int, g: torch.Generator) -> torch.Tensor:
    """``n`` clips of ``length`` samples of unit-variance Gaussian white noise (flat spectrum), drawn from ``g``."""
    return torch.randn(n, length, generator=g)


def speech_shaped_noise(pool: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
    """Noise with the mean power spectrum of ``pool`` (M x T) and uniformly random phases: n x T."""
    length = pool.shape[-1]
    power = torch.fft.rfft(pool.double(), dim=-1).abs().square().mean(0)  # [T/2 + 1]
    phase = 2 * math.pi * torch.rand(n, power.shape[0], generator=g, dtype=torch.float64)
    return torch.fft.irfft(power.sqrt() * torch.exp(1j * phase), n=length, dim=-1).float()


def babble(pool: torch.Tensor, exclude: torch.Tensor, g: torch.Generator, talkers: int = BABBLE_TALKERS):
    """For each index i of ``exclude``, the sum of ``talkers`` random other rows of ``pool`` (M x T), each rolled
    by a random shift: len(exclude) x T."""
    m, length = pool.shape
    if m <= talkers:
        raise UserError(f"babble needs more than {talkers} recordings in a split, and this one has {m}")
    out = torch.zeros(len(exclude), length)
    for k, i in enumerate(exclude.tolist()):
        picks = torch.randperm(m - 1, generator=g)[:talkers]
        picks = picks + (picks >= i).long()  # any row but i itself
        shifts = torch.randint(0, length, (talkers,), generator=g).tolist()
        out[k] = sum(torch.roll(pool[j], s) for j, s in zip(picks.tolist(), shifts))
    return out


@dataclass
class NoisyPairs:
    """Clean and noisy clips (N x 1 x T, the noisy peaking at 1), with what made each: ``kinds`` (indices into
    :data:`NOISE_KINDS`), ``snrs`` (dB), ``speakers`` (names), ``y`` (labels, or None)."""

    clean: torch.Tensor
    noisy: torch.Tensor
    kinds: torch.Tensor
    snrs: torch.Tensor
    speakers: list[str]
    y: torch.Tensor | None = None

    def tensor_data(self, name: str, classes: list[str]) -> TensorData:
        return TensorData(x=self.clean, y=self.y, classes=classes, name=name, extra={"noisy": self.noisy})


def make_pairs(
    clean: torch.Tensor, snrs: tuple[float, ...], seed: int, kinds: tuple[str, ...] = NOISE_KINDS
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mix every clip of ``clean`` (N x 1 x T) with one noise of ``kinds`` at one SNR of ``snrs``, drawn by ``seed``
    (kinds and SNRs balanced: each N / len(kinds) times, in a random order), noise made from ``clean`` itself.

    Returns:
        (clean, noisy, kinds, snrs): each pair scaled so that the noisy clip peaks at 1.
    """
    unknown = set(kinds) - set(NOISE_KINDS)
    if unknown:
        raise UserError(f"unknown noise kind(s) {sorted(unknown)} (known: {', '.join(NOISE_KINDS)})")
    g = torch.Generator().manual_seed(seed)
    n, length = len(clean), clean.shape[-1]
    pool = clean[:, 0]
    kind = torch.tensor([NOISE_KINDS.index(kinds[i % len(kinds)]) for i in range(n)])[torch.randperm(n, generator=g)]
    snr = torch.tensor(snrs, dtype=torch.float64)[torch.arange(n) % len(snrs)][torch.randperm(n, generator=g)]
    noise = torch.zeros(n, length)
    for k, name in enumerate(NOISE_KINDS):
        idx = (kind == k).nonzero().flatten()
        if len(idx) == 0:
            continue
        if name == "white":
            noise[idx] = white_noise(len(idx), length, g)
        elif name == "speech-shaped":
            noise[idx] = speech_shaped_noise(pool, len(idx), g)
        else:
            noise[idx] = babble(pool, idx, g)
    noisy = mix_at_snr(pool, noise, snr)
    scale = 1.0 / noisy.abs().amax(-1, keepdim=True).clamp_min(1e-8)  # the same gain on both: the SNR stays
    return (pool * scale)[:, None], (noisy * scale)[:, None], kind, snr


def fsdd_speaker_files(folder: Path, split: str) -> list[Path]:
    """FSDD's recordings of the speakers of ``split`` (:data:`SPEAKER_SPLITS`), all indices, sorted by name."""
    if split not in SPEAKER_SPLITS:
        raise UserError(f"fsdd-noisy: unknown split '{split}' (train, val or test)")
    speakers = set(SPEAKER_SPLITS[split])
    return sorted(p for p in folder.iterdir() if (m := FSDD_NAME.match(p.name)) and m.group(2).lower() in speakers)


def noisy_fsdd(root: str | None, split: str = "train", seed: int = 0) -> NoisyPairs:
    """FSDD's recordings of one speaker split mixed with noise (module docstring); ``root`` the WAV folder.

    Training mixtures use SEGAN's training SNRs, validation and test mixtures its test SNRs."""
    files = fsdd_speaker_files(fsdd_root(root), split)
    clean = load_clips(files)
    snrs = TRAIN_SNRS if split == "train" else TEST_SNRS
    c, noisy, kinds, snr = make_pairs(clean, snrs, seed * 1009 + SPLIT_SEEDS[split])
    y = torch.tensor([int(f.name.split("_")[0]) for f in files], dtype=torch.int64)
    speakers = [FSDD_NAME.match(f.name).group(2).lower() for f in files]  # type: ignore[union-attr]
    return NoisyPairs(c, noisy, kinds, snr, speakers, y)


@register("fsdd-noisy")
def fsdd_noisy(split: str = "train", root: str | None = None, img_size: int | None = None, channels=None):
    """``data.name=fsdd-noisy``: FSDD mixed with noise, split by speaker (``x`` clean, ``noisy`` the input)."""
    if img_size is not None or channels not in (None, 1):
        raise UserError("fsdd-noisy: data.img_size and data.channels are image settings; audio clips are 1 x 16384")
    return noisy_fsdd(root, split).tensor_data(f"fsdd-noisy:{split}", [str(d) for d in range(10)])


def synthetic_syllables(n: int, seed: int, length: int = CLIP_LENGTH, rate: int = SAMPLE_RATE) -> torch.Tensor:
    """n clips of a voiced "syllable": five harmonics of a random pitch (100-250 Hz) under a Hann envelope of
    0.2-0.5 s at a random place, peak 1: N x 1 x T. Speech-like enough to test enhancement without files."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length, dtype=torch.float64) / rate
    out = torch.zeros(n, length, dtype=torch.float64)
    for i in range(n):
        f0 = 100 + 150 * float(torch.rand(1, generator=g))
        dur = int(min(rate * (0.2 + 0.3 * float(torch.rand(1, generator=g))), length // 2))  # short clips: half
        start = int(torch.randint(0, length - dur, (1,), generator=g))
        tone = sum(torch.sin(2 * math.pi * f0 * h * t) / h for h in range(1, 6))
        env = torch.zeros(length, dtype=torch.float64)
        env[start : start + dur] = torch.hann_window(dur, periodic=False, dtype=torch.float64)
        out[i] = tone * env
    out = out / out.abs().amax(-1, keepdim=True)
    return out.float()[:, None]


@register("tones-noisy")
def tones_noisy(split: str = "train", root: str | None = None, img_size: int | None = None, channels=None):
    """``data.name=tones-noisy``: 64 synthetic syllables per split (16 for val and test) mixed with noise."""
    if split not in SPLIT_SEEDS:
        raise UserError(f"tones-noisy: unknown split '{split}' (train, val or test)")
    n = 64 if split == "train" else 16
    clean = synthetic_syllables(n, 100 + SPLIT_SEEDS[split])
    c, noisy, _, _ = make_pairs(clean, TRAIN_SNRS if split == "train" else TEST_SNRS, SPLIT_SEEDS[split])
    return TensorData(x=c, name=f"tones-noisy:{split}", extra={"noisy": noisy})
