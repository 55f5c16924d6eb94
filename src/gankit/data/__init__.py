"""Datasets by name: ``fashion-mnist``, ``mnist-5k``, ``folder:PATH`` (and the toys of :mod:`gankit.data.toy`).

Every dataset is held in memory as a :class:`TensorData` (images scaled to [-1, 1], N x C x H x W),
so that drawing a minibatch is one indexing operation and the loader is never the bottleneck. Its
minibatches are dicts (:class:`gankit.data.stream.BatchStream`): ``x``, ``y`` when the items are
labelled, and every per-item tensor of ``extra`` (a caption, a box, a second image, frames).
A :class:`DataSpec` describes the data without holding it: what a model is built from, and what a
checkpoint keeps so that a trained model can be rebuilt without loading its data.

A run's data (:func:`load_run_data`) is one or several named parts: ``train`` for a dataset, or
``source``, ``target`` and ``target_test`` for a domain pair (``data.target`` set).

Adding a dataset: write a function ``(split, root, img_size, channels) -> TensorData`` and decorate it
with ``@register("name")``; an audio dataset that honours ``data.sample_rate`` also takes ``sample_rate`` and
adds its name to :data:`gankit.data.audio.TAKES_SAMPLE_RATE`.
"""

from __future__ import annotations

from gankit.data.base import DATASETS, KINDS, DataSpec, RunData, TensorData, fit_images, kind_of, register
from gankit.errors import UserError


def load_dataset(
    name: str,
    split: str = "train",
    root: str | None = None,
    img_size: int | None = None,
    channels: int | None = None,
    sample_rate: int | None = None,
) -> TensorData:
    """Load a dataset by name.

    Args:
        name: ``fashion-mnist``, ``mnist-5k``, ``folder:PATH`` or any registered name.
        split: ``train`` or ``test``.
        root: a folder with the dataset's files, tried before the default places.
        img_size: resize images to this square size (None keeps the native size).
        channels: 1 or 3 to convert, None keeps the dataset's own.
        sample_rate: audio only: resample clips to this rate (None: 16 kHz).

    Returns:
        A :class:`TensorData` with images in [-1, 1].

    Example:
        >>> data = load_dataset("fashion-mnist", split="test")  # doctest: +SKIP
        >>> data.x.shape
        torch.Size([10000, 1, 28, 28])
    """
    rate = {} if sample_rate is None else {"sample_rate": sample_rate}
    if name.startswith("folder:"):
        if audio.is_audio_folder(name[len("folder:") :]):  # WAV files: 1.024 s clips (gankit.data.audio)
            return audio.load_audio_folder(name[len("folder:") :], sample_rate or audio.SAMPLE_RATE)
        if rate:
            raise UserError(f"data.sample_rate={sample_rate} is an audio setting; {name} holds images")
        return load_folder(name[len("folder:") :], img_size=img_size, channels=channels)
    if name not in DATASETS:
        raise UserError(f"unknown dataset '{name}' (known: {', '.join(sorted(DATASETS))}, folder:PATH)")
    if rate and name not in audio.TAKES_SAMPLE_RATE:
        raise UserError(f"data.sample_rate={sample_rate}: {name} does not take a sample rate (audio datasets that "
                        f"do: {', '.join(sorted(audio.TAKES_SAMPLE_RATE))}, folder:PATH of WAV files)")  # fmt: skip
    return DATASETS[name](split=split, root=root, img_size=img_size, channels=channels, **rate)


def load_from_config(cfg) -> TensorData:
    """Load the dataset a :class:`gankit.config.DataConfig` describes (binarised when ``cfg.binarize`` is set)."""
    data = load_dataset(cfg.name, split=cfg.split, root=cfg.root, img_size=cfg.img_size, channels=cfg.channels,
                        sample_rate=getattr(cfg, "sample_rate", None))  # fmt: skip
    if getattr(cfg, "binarize", None):
        from gankit.data.binarize import binarize

        data.x = binarize(data.x, cfg.binarize, cfg.seed, cfg.split)
    return data


def load_run_data(cfg) -> RunData:
    """The parts a :class:`gankit.config.DataConfig` describes: ``train``, or a domain pair's
    ``source``, ``target`` and ``target_test`` when ``cfg.target`` names a second domain."""
    if cfg.target is None:
        return RunData({"train": load_from_config(cfg)})
    from gankit.data.domains import load_domain_pair

    return load_domain_pair(cfg.name, cfg.target, seed=cfg.seed, img_size=cfg.img_size, photos=cfg.photos).run_data()


# The built-in datasets register themselves on import.
from gankit.data import fashion_mnist, mnist, moving, photos, toy  # noqa: E402,F401
from gankit.data import paired  # noqa: E402,F401  (image-to-image pairs)
from gankit.data import boxes, captions  # noqa: E402,F401  (garments in boxes; captioned Fashion-MNIST)
from gankit.data import audio  # noqa: E402  (WAV clips: fsdd, folders of WAV files)
from gankit.data import noisy_speech  # noqa: E402,F401  (noisy/clean speech pairs for SEGAN)
from gankit.data.folder import load_folder  # noqa: E402

__all__ = [
    "DATASETS",
    "KINDS",
    "DataSpec",
    "RunData",
    "TensorData",
    "fit_images",
    "kind_of",
    "register",
    "load_dataset",
    "load_from_config",
    "load_run_data",
    "load_folder",
]
