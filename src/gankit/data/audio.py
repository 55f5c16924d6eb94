"""Audio: WAV files as 1 x T clips at 16 kHz, the Free Spoken Digit Dataset (``fsdd``) and folders of WAVs.

Every recording goes through the same route (the WaveGAN setting, Donahue et al. 2019):

1. read (``soundfile`` when installed, the ``audio`` extra; else ``scipy.io.wavfile``), mixed down to mono,
   integer samples scaled to [-1, 1];
2. resampled to :data:`SAMPLE_RATE` = 16 kHz by a polyphase filter (``scipy.signal.resample_poly``);
3. brought to :data:`CLIP_LENGTH` = 16,384 samples (~1.02 s): shorter recordings are zero-padded on both
   sides and longer ones centre-cropped, so that the word sits in the middle of the clip;
4. peak-normalised to a maximum magnitude of 1 (WaveGAN's ``data_normalize``): recording levels differ a lot
   between speakers, and G ends in tanh.

The result is a :class:`TensorData` of N x 1 x 16384 clips (``DataSpec.kind`` ``audio``).

``fsdd``: the Free Spoken Digit Dataset (Jakobovski et al., Zenodo DOI 10.5281/zenodo.1342401, CC BY-SA 4.0),
3,000 recordings ``{digit}_{speaker}_{index}.wav`` at 8 kHz, 6 speakers x 10 digits x 50. It is not shipped
and never downloaded: point ``data.root`` at the folder of its WAV files (``recordings/`` of the repository),
or place them in ``<gankit cache>/fsdd``. The official split: recordings 0-4 of each speaker and digit are the
test set (300), the rest (2,700) train.

``folder:PATH`` with WAV files (no images): every WAV below PATH; class labels from sub-folders as for images,
else from FSDD-style names (the text before the first ``_``) when every file has one, else none.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import torch

from gankit.data.base import TensorData, register
from gankit.errors import UserError

SAMPLE_RATE = 16_000
CLIP_LENGTH = 16_384  # WaveGAN's 2^14 samples
FSDD_TEST_INDICES = range(5)  # the official split: indices 0-4 of each (speaker, digit) are the test set
FSDD_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)\.wav$", re.IGNORECASE)
WAV_EXTENSIONS = {".wav"}


def clip_length(rate: int) -> int:
    """Samples in a clip of CLIP_LENGTH / SAMPLE_RATE = 1.024 s at ``rate`` (``data.sample_rate``), e.g. 8,192 at
    8 kHz."""
    if rate <= 0 or rate * CLIP_LENGTH % SAMPLE_RATE:
        raise UserError(f"data.sample_rate={rate}: clips last 1.024 s, so the rate must be a positive multiple of "
                        "125 samples per second (8000, 16000, ...)")  # fmt: skip
    return rate * CLIP_LENGTH // SAMPLE_RATE


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """One WAV file as (float32 mono samples in [-1, 1], sample rate); a one-line :class:`UserError` naming the
    file when it cannot be read."""
    path = Path(path)
    try:
        try:
            import soundfile
        except ImportError:  # the audio extra is not installed: SciPy reads PCM and float WAVs
            soundfile = None
        if soundfile is not None:
            data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        else:
            from scipy.io import wavfile

            rate, raw = wavfile.read(str(path))
            data = _to_float(np.asarray(raw))
            data = data[:, None] if data.ndim == 1 else data
    except Exception as e:  # noqa: BLE001  (each reader raises its own types for a damaged file)
        raise UserError(f"{path}: not a readable WAV file ({type(e).__name__})") from None
    if data.shape[0] == 0:
        raise UserError(f"{path}: the WAV file holds no samples")
    return data.mean(axis=1).astype(np.float32), int(rate)


def _to_float(a: np.ndarray) -> np.ndarray:
    """Integer PCM samples scaled to [-1, 1) (8-bit WAV is unsigned, centred on 128); floats kept."""
    if a.dtype == np.uint8:
        return (a.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(np.float32) / float(-np.iinfo(a.dtype).min)
    return a.astype(np.float32)


def write_wav(path: str | Path, clip: torch.Tensor | np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Write a clip (T or 1 x T, in [-1, 1]; clipped) as a 16-bit PCM WAV file."""
    from scipy.io import wavfile  # always there (a core dependency); soundfile is not needed to write

    a = clip.detach().cpu().float().numpy() if isinstance(clip, torch.Tensor) else np.asarray(clip, np.float32)
    a = np.clip(a.reshape(-1), -1.0, 1.0)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wavfile.write(str(path), rate, np.round(a * 32767).astype(np.int16))
    return path


def resample(x: np.ndarray, rate_from: int, rate_to: int = SAMPLE_RATE) -> np.ndarray:
    """Resample by the rational factor rate_to / rate_from with a polyphase anti-aliasing filter."""
    if rate_from == rate_to:
        return x
    from scipy.signal import resample_poly

    g = math.gcd(rate_from, rate_to)
    return resample_poly(x, rate_to // g, rate_from // g).astype(np.float32)


def resample_clips(clips: torch.Tensor, rate_from: int, rate_to: int = SAMPLE_RATE) -> torch.Tensor:
    """N x C x T clips at ``rate_from`` -> N x C x (T * rate_to / rate_from) at ``rate_to``, by :func:`resample`'s
    filter: the route the loader takes, e.g. for 8 kHz generated clips scored by a 16 kHz classifier."""
    if rate_from == rate_to:
        return clips
    length = clips.shape[-1] * rate_to // rate_from
    x = clips.detach().cpu().float().numpy()
    out = np.stack([[fit_length(resample(c, rate_from, rate_to), length) for c in clip] for clip in x])
    return torch.from_numpy(out.astype(np.float32))


def fit_length(x: np.ndarray, length: int = CLIP_LENGTH) -> np.ndarray:
    """Centre ``x`` in ``length`` samples: zero-pad both sides (the extra sample after) or crop the middle."""
    n = len(x)
    if n >= length:
        start = (n - length) // 2
        return x[start : start + length]
    left = (length - n) // 2
    return np.pad(x, (left, length - n - left))


def normalise(x: np.ndarray, peak: float = 1.0) -> np.ndarray:
    """Scale a clip to maximum magnitude ``peak`` (silence stays silent)."""
    m = float(np.abs(x).max()) if len(x) else 0.0
    return x * (peak / m) if m > 0 else x


def load_clip(path: str | Path, rate: int = SAMPLE_RATE, length: int = CLIP_LENGTH) -> np.ndarray:
    """One WAV file through the whole route of the module docstring: ``length`` float32 samples at ``rate``."""
    x, r = read_wav(path)
    return normalise(fit_length(resample(x, r, rate), length)).astype(np.float32)


def load_clips(files: list[Path], rate: int = SAMPLE_RATE, length: int = CLIP_LENGTH) -> torch.Tensor:
    """N files as an N x 1 x ``length`` tensor (see :func:`load_clip`)."""
    return torch.from_numpy(np.stack([load_clip(f, rate, length) for f in files]))[:, None]


def list_wavs(root: Path) -> list[Path]:
    """The WAV files below ``root``, sorted."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in WAV_EXTENSIONS and p.is_file())


def is_audio_folder(path: str | Path) -> bool:
    """Whether a folder holds WAV files and no images (and so is read as audio by ``folder:PATH``)."""
    from gankit.data.folder import EXTENSIONS as IMAGE_EXTENSIONS

    root = Path(path).expanduser()
    suffixes = {p.suffix.lower() for p in root.rglob("*")} if root.is_dir() else set()
    return bool(suffixes & WAV_EXTENSIONS) and not suffixes & IMAGE_EXTENSIONS


def folder_labels(root: Path, files: list[Path]) -> tuple[list[str], torch.Tensor | None]:
    """Class names and labels: sub-folders when every file sits in one, else the text before the first ``_`` of
    FSDD-style names (``7_jackson_3.wav`` -> ``7``) when every name has that form, else no labels."""
    parts = [f.relative_to(root).parts for f in files]
    if all(len(p) > 1 for p in parts):
        names = [p[0] for p in parts]
    elif all(FSDD_NAME.match(f.name) for f in files):
        names = [f.name.split("_")[0] for f in files]
    else:
        return [], None
    classes = sorted(set(names))
    index = {c: i for i, c in enumerate(classes)}
    return classes, torch.tensor([index[n] for n in names], dtype=torch.int64)


def load_audio_folder(path: str, rate: int = SAMPLE_RATE) -> TensorData:
    """``folder:PATH`` for WAV files: every clip below PATH at ``rate``, labelled as :func:`folder_labels` says."""
    length = clip_length(rate)
    root = Path(path).expanduser()
    files = list_wavs(root)
    if not files:
        raise UserError(f"folder:{path}: no WAV files in this folder")
    classes, labels = folder_labels(root, files)
    return TensorData(x=load_clips(files, rate, length), y=labels, classes=classes, name=f"folder:{path}", rate=rate)


def fsdd_root(root: str | None) -> Path:
    """The folder of FSDD's WAV files: ``root`` (``data.root``), else ``<gankit cache>/fsdd``."""
    from gankit.data.fashion_mnist import cache_dir

    folder = Path(root).expanduser() if root else cache_dir() / "fsdd"
    if not folder.is_dir() or not any(FSDD_NAME.match(p.name) for p in folder.iterdir()):
        raise UserError(
            f"fsdd: no recordings named {{digit}}_{{speaker}}_{{index}}.wav in {folder}; set data.root=DIR to the "
            "folder of the Free Spoken Digit Dataset's WAV files (recordings/ of "
            "github.com/Jakobovski/free-spoken-digit-dataset)"
        )
    return folder


def fsdd_files(folder: Path, split: str) -> list[Path]:
    """The recordings of one split of FSDD (official split: indices 0-4 are ``test``), sorted by name."""
    if split not in ("train", "test"):
        raise UserError(f"fsdd: unknown split '{split}' (train or test)")
    test = split == "test"
    found = [p for p in folder.iterdir() if (m := FSDD_NAME.match(p.name)) and (int(m.group(3)) < 5) == test]
    return sorted(found)


TAKES_SAMPLE_RATE = {"fsdd"}  # registered audio datasets whose loader takes data.sample_rate (as sample_rate=)


@register("fsdd")
def fsdd(split: str = "train", root: str | None = None, img_size: int | None = None, channels: int | None = None,
         sample_rate: int = SAMPLE_RATE):  # fmt: skip
    """``data.name=fsdd``: the Free Spoken Digit Dataset, 1.024 s clips labelled 0-9 (official split), at 16 kHz
    (1 x 16384) unless ``sample_rate`` says otherwise (8000: the recordings' own rate, 1 x 8192, no resampling).
    ``img_size`` and ``channels`` are image settings and must stay unset."""
    if img_size is not None or channels not in (None, 1):
        raise UserError("fsdd: data.img_size and data.channels are image settings; audio clips are 1 x 16384")
    files = fsdd_files(fsdd_root(root), split)
    y = torch.tensor([int(f.name.split("_")[0]) for f in files], dtype=torch.int64)
    x = load_clips(files, sample_rate, clip_length(sample_rate))
    return TensorData(x=x, y=y, classes=[str(d) for d in range(10)], name=f"fsdd:{split}", rate=sample_rate)
