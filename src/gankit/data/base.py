"""The data types of :mod:`gankit.data` (whose docstring describes them) and the dataset registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from gankit.errors import UserError
from gankit.images import resize


KINDS = ("image", "points", "audio", "video")
LEGACY_AUDIO_RATE = 16_000


@dataclass(frozen=True)
class DataSpec:
    """What a model needs to know of its data: one item's shape, its kind, its classes, what else it carries.

    ``kind`` decides how previews render (image grid, point scatter, ...) and which networks fit;
    ``cond`` names the extra per-item tensors that batches carry beside ``x`` and ``y``; ``rate`` is the
    sample rate of audio clips (samples per second; 0 for other kinds), which previews and WAV files need.
    """

    shape: tuple[int, ...]
    kind: str = ""  # "": from the shape (kind_of)
    classes: tuple[str, ...] = ()
    cond: tuple[str, ...] = ()
    rate: int = 0

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(self.shape))
        if not self.kind:
            object.__setattr__(self, "kind", kind_of(self.shape))
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind of data '{self.kind}' (known: {', '.join(KINDS)})")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def to_dict(self) -> dict:
        out = {"shape": list(self.shape), "kind": self.kind, "classes": list(self.classes), "cond": list(self.cond)}
        return out | ({"rate": self.rate} if self.rate else {})

    @classmethod
    def from_dict(cls, d: dict) -> DataSpec:
        shape = tuple(d["shape"])
        kind = d.get("kind") or kind_of(shape)
        # Audio checkpoints written before the rate was kept were all 16 kHz (gankit.data.audio's default).
        rate = d.get("rate", LEGACY_AUDIO_RATE if kind == "audio" else 0)
        return cls(shape, kind, tuple(d.get("classes", ())), tuple(d.get("cond", ())), int(rate))


def kind_of(shape: tuple[int, ...]) -> str:
    """The kind of data whose items have ``shape``: C x H x W images, D-vectors (points), C x T audio."""
    return {3: "image", 1: "points", 2: "audio", 4: "video"}.get(len(shape), "points")


@dataclass
class TensorData:
    """An in-memory dataset: ``x`` (N x ...) with optional integer labels ``y`` (N,) and other per-item
    tensors in ``extra`` (each N x ...), which batches carry under their own keys."""

    x: torch.Tensor
    y: torch.Tensor | None = None
    classes: list[str] = field(default_factory=list)
    name: str = ""
    extra: dict[str, torch.Tensor] = field(default_factory=dict)
    rate: int = 0  # audio: samples per second

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one item, e.g. (1, 28, 28)."""
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def spec(self) -> DataSpec:
        return DataSpec(self.shape, kind_of(self.shape), tuple(self.classes), tuple(self.extra), self.rate)


@dataclass
class RunData:
    """The data of one run: named parts, and the one whose spec describes the model's data."""

    parts: dict[str, TensorData]
    main: str = "train"

    @property
    def spec(self) -> DataSpec:
        return self.parts[self.main].spec

    def part(self, name: str) -> TensorData:
        if name not in self.parts:
            raise UserError(
                f"this method needs data part '{name}'; the data config gives {', '.join(self.parts)}"
                + (" (set data.target for a domain pair)" if name in ("source", "target") else "")
            )
        return self.parts[name]


Loader = Callable[..., TensorData]
DATASETS: dict[str, Loader] = {}


def register(name: str) -> Callable[[Loader], Loader]:
    """Register a dataset loader ``(split, root, img_size, channels) -> TensorData`` as ``data.name=NAME``."""
    def deco(fn: Loader) -> Loader:
        DATASETS[name] = fn
        return fn

    return deco


def fit_images(x: torch.Tensor, img_size: int | None, channels: int | None) -> torch.Tensor:
    """Bring images to the requested size and channel count (gray <-> RGB)."""
    if channels is not None and x.shape[1] != channels:
        x = x.mean(1, keepdim=True) if channels == 1 else x.expand(-1, channels, -1, -1).contiguous()
    if img_size is not None:
        x = resize(x, img_size)
    return x
