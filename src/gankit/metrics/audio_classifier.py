"""The spoken-digit classifier behind the audio scores: the WaveGAN paper's Inception-score analogue and a FID.

Donahue et al. 2019 (section 6.1) score generated SC09 digits with a classifier trained on the real training
set: the Inception score ``exp E_x KL(p(y|x) || p(y))`` of its class probabilities (10 at best; real SC09 test
clips 8.01, WaveGAN 4.67), and nearest-neighbour statistics. Here the same for FSDD: a small 2-D CNN on log-mel
spectrograms (:func:`log_mel`), trained on the official training split (validation carved from it), shipped as
``assets/fsdd-classifier.safetensors`` and retrained by ``python benchmarks/digit_classifier.py``. Its pooled
64-d features give a Frechet distance of audio (:func:`gankit.metrics.fid.fid`), as FID does with Inception's.

As extractor ``fsdd-classifier`` (``gankit.metrics.extractors``) it takes N x 1 x T clips at 16 kHz in [-1, 1].
"""

from __future__ import annotations

import hashlib
import json
import math
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from gankit.data.audio import SAMPLE_RATE
from gankit.errors import UserError
from gankit.metrics.extractors import Extractor

N_FFT, HOP, N_MELS = 512, 256, 40  # 32 ms windows every 16 ms; 40 mel bands from 0 to 8 kHz
FLOOR_DB = -80.0


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Triangular filters equally spaced on the mel scale ``2595 log10(1 + f / 700)`` (HTK), (n_mels x bins)."""
    mel = torch.linspace(0.0, 2595 * math.log10(1 + rate / 2 / 700), n_mels + 2, dtype=torch.float64)
    hz = 700 * (10 ** (mel / 2595) - 1)  # the n_mels + 2 edges and centres
    bins = torch.linspace(0.0, rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    lo, mid, hi = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    rise, fall = (bins - lo) / (mid - lo), (hi - bins) / (hi - mid)
    return rise.minimum(fall).clamp_min(0).float()


def log_mel(x: torch.Tensor) -> torch.Tensor:
    """N x 1 x T clips -> N x 1 x n_mels x frames log-mel power in dB relative to each clip's loudest cell,
    floored at -80 and scaled to [-1, 0]: the classifier is blind to a clip's overall gain."""
    flat = x.reshape(len(x), -1).float()
    spec = torch.stft(flat, N_FFT, HOP, window=torch.hann_window(N_FFT, device=x.device), return_complex=True)
    power = mel_filterbank().to(x.device) @ spec.abs().square()  # [N, mels, frames]
    db = 10 * torch.log10(power.clamp_min(1e-10))
    db = (db - db.amax(dim=(1, 2), keepdim=True)).clamp_min(FLOOR_DB)
    return (db / -FLOOR_DB)[:, None]


class SpokenDigitNet(nn.Module):
    """log-mel (1 x 40 x 65) -> three conv blocks (16, 32, 64 channels) -> mean over time and frequency -> 10."""

    feature_dim = 64

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.num_classes = num_classes
        blocks: list[nn.Module] = []
        for c_in, c_out in ((1, 16), (16, 32), (32, 64)):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(self.feature_dim, num_classes)

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.body(log_mel(x)).mean(dim=(2, 3))  # [N, 64]
        return f, self.head(f)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features_and_logits(x)[1]


def random_shift(x: torch.Tensor, max_shift: int, g: torch.Generator) -> torch.Tensor:
    """Circular time shifts of up to ``max_shift`` samples each way (the clips are zero-padded, so the roll moves
    the word in its silence): generated words need not sit in the middle of the clip."""
    shifts = torch.randint(-max_shift, max_shift + 1, (len(x),), generator=g)
    return torch.stack([xi.roll(int(s), dims=-1) for xi, s in zip(x, shifts)])


@torch.no_grad()
def accuracy(model: SpokenDigitNet, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> float:
    """The fraction of clips ``x`` that ``model`` classifies as ``y`` (eval mode, in batches)."""
    model.eval()
    hits = sum(int((model(xb).argmax(1) == yb).sum()) for xb, yb in zip(x.split(batch_size), y.split(batch_size)))
    return hits / len(y)


def fit_digit_classifier(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    max_shift: int = 2000,
    log=None,
) -> SpokenDigitNet:
    """Adam with a cosine schedule on clips (N x 1 x T) and digits (N,), random time shifts of up to ``max_shift``
    samples (0.125 s). ``log(epoch, model)``: called after each epoch (validation accuracy)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = SpokenDigitNet(int(y.max()) + 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    total = epochs * math.ceil(len(x) / batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    for epoch in range(epochs):
        model.train()
        for idx in torch.randperm(len(x), generator=g).split(batch_size):
            loss = F.cross_entropy(model(random_shift(x[idx], max_shift, g)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        if log is not None:
            log(epoch, model)
    return model.eval()


def save_digit_classifier(model: SpokenDigitNet, path: str | Path, meta: dict[str, str]) -> Path:
    """Write the weights with ``meta`` (test accuracy, the command that made them) as safetensors."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path), metadata=meta)
    return path


def shipped_path() -> Path:
    """The spoken-digit classifier shipped in gankit/assets (trained by benchmarks/digit_classifier.py)."""
    return Path(str(resources.files("gankit") / "assets" / "fsdd-classifier.safetensors"))


def load_digit_classifier(path: str | Path | None = None) -> tuple[SpokenDigitNet, dict[str, str]]:
    """The classifier of ``path`` (default: the shipped one), in eval mode, and its metadata."""
    path = Path(path) if path is not None else shipped_path()
    if not path.is_file():
        raise UserError(f"{path}: spoken-digit classifier weights not found (python benchmarks/digit_classifier.py)")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            state = {k: f.get_tensor(k) for k in f.keys()}
        model = SpokenDigitNet(state["head.weight"].shape[0])
        model.load_state_dict(state)
    except (SafetensorError, OSError, KeyError, RuntimeError) as e:
        raise UserError(f"{path}: not a spoken-digit classifier file ({type(e).__name__})") from None
    return model.eval(), meta


class SpokenDigitExtractor(Extractor):
    """Extractor ``fsdd-classifier``: 64-d pooled features and 10 digit probabilities of 16 kHz clips."""

    name = "fsdd-classifier"
    batch_size = 250

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else shipped_path()
        self.net, self.meta = load_digit_classifier(self.path)
        self.key = f"{self.name}-{hashlib.sha1(self.path.read_bytes()).hexdigest()[:10]}"
        self.dim, self.num_classes = self.net.feature_dim, self.net.num_classes
        self.classes = json.loads(self.meta.get("classes", "[]"))

    def features_and_probs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if x.ndim != 3 or x.shape[1] != 1:
            raise UserError(f"the {self.name} extractor takes N x 1 x T audio clips, got shape {list(x.shape)}")
        with torch.inference_mode():
            f, logits = self.net.features_and_logits(x.float())
        return f.float(), logits.float().softmax(1)
