"""Reference features of real data, cached per dataset, split, extractor and sample count.

Files live in ``<gankit cache>/eval/`` (see :func:`gankit.data.fashion_mnist.cache_dir`) as
safetensors: ``features`` (N x D float32), ``probs`` (N x K, when the extractor has a head) and
``index`` (which images of the split were used). The cache key includes a digest of the
extractor's weights, so new weights never reuse stale features.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from gankit.data.fashion_mnist import cache_dir
from gankit.metrics.extractors import Extractor, extract, get_extractor


def parse_against(against: str) -> tuple[str, str]:
    """``DATASET[:SPLIT]`` -> (dataset, split); ``folder:PATH`` keeps its colon, split defaults to test."""
    if against.startswith("folder:"):
        return against, "test"
    name, _, split = against.partition(":")
    return name, split or "test"


def subset_index(total: int, n: int | None, seed: int = 0) -> torch.Tensor:
    """The first ``n`` of a seeded permutation of ``range(total)`` (all, in order, when n >= total)."""
    if n is None or n >= total:
        return torch.arange(total)
    return torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n].sort().values


def _cache_file(dataset: str, split: str, ex: Extractor, n: int | None, seed: int, root: str | None = None) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", dataset)
    if dataset.startswith("folder:"):
        safe += "-" + hashlib.sha1(str(Path(dataset[7:]).resolve()).encode()).hexdigest()[:8]
    if root is not None:  # the user's own copy of a dataset: its own cache entry
        safe += "-root" + hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:8]
    return cache_dir() / "eval" / f"{safe}-{split}-{ex.key}-n{n or 'all'}-s{seed}.safetensors"


def reference_features(
    dataset: str,
    split: str = "test",
    extractor: str | Extractor = "fashion-mnist-classifier",
    n: int | None = None,
    *,
    seed: int = 0,
    progress: bool = False,
    cache: bool = True,
    root: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Features of (a seeded subset of ``n`` images of) a dataset split, from the cache when present.

    Returns:
        (features N x D, probabilities N x K or None, the indices of the images used).
    """
    from gankit.data import load_dataset

    ex = get_extractor(extractor)
    path = _cache_file(dataset, split, ex, n, seed, root)
    if cache and path.is_file():
        try:
            t = load_file(str(path))
            return t["features"], t.get("probs"), t["index"]
        except (SafetensorError, OSError, KeyError):
            pass  # a damaged cache file is recomputed
    data = load_dataset(dataset, split=split, root=root)  # root: data.root, the folder the user named
    idx = subset_index(len(data), n, seed)
    feats, probs = extract(ex, data.x[idx], progress=progress, desc=f"{dataset}:{split} features")
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"features": feats.contiguous(), "index": idx.contiguous()}
        if probs is not None:
            tensors["probs"] = probs.contiguous()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # concurrent jobs share the cache
        save_file(tensors, str(tmp))
        tmp.replace(path)
    return feats, probs, idx


def reference_labels(dataset: str, split: str, index: torch.Tensor) -> torch.Tensor | None:
    """The class labels of the images ``index`` of a split (the third value of :func:`reference_features`),
    or None for a dataset without labels. The labels are read from the dataset, not cached with the
    features, so the feature files keep their format."""
    from gankit.data import load_dataset

    y = load_dataset(dataset, split=split).y
    return None if y is None else y[index]
