"""``gankit.evaluate`` (``gankit.evaluation.evaluate``): score samples (a run, a folder of images or an ``.npz``)
against a dataset.

The protocol of Lucic et al. 2018 by default: 10,000 generated samples against the 10,000 images of
the test split. Reference features are cached (:mod:`gankit.metrics.reference`).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from gankit.data.fashion_mnist import cache_dir
from gankit.errors import UserError
from gankit.images import from_uint8
from gankit.metrics.conditional import balanced_labels, score_conditional_samples
from gankit.metrics.extractors import default_extractor, extract, get_extractor
from gankit.metrics.memorisation import memorisation
from gankit.metrics.reference import parse_against, reference_features
from gankit.metrics.scoring import SCORES, FeatureSet, check_names, register_direction, score_features
from gankit.data.audio import SAMPLE_RATE, resample_clips
from gankit.train.restore import load_generator

# Memorisation is no score on features (it needs the images, the training split and writes a grid), so it
# stays an extra of ``gankit evaluate`` next to the registry's scores; its headline number has a direction.
# So are the conditional scores (class accuracy, intra-class FID): they need the labels the samples were
# drawn with and those of the real images (:mod:`gankit.metrics.conditional`).
EXTRAS = ("memorisation", "conditional")
METRICS = (*SCORES, *EXTRAS)
DEFAULT_METRICS = METRICS
register_direction("memorisation_fraction", False)  # about 1 for a generator that copies its training set


def load_npz(path: str | Path) -> torch.Tensor:
    """Images of an ``.npz`` written by ``gankit sample --out x.npz`` (key ``images``, uint8 N x H x W x C)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if "images" not in z.files:
                raise UserError(f"{path}: no array 'images' in this .npz (found: {', '.join(z.files) or 'none'})")
            a = z["images"]
    except (OSError, ValueError, EOFError) as e:
        raise UserError(f"{path}: not a readable .npz ({type(e).__name__})") from None
    if a.dtype != np.uint8 or a.ndim not in (3, 4) or (a.ndim == 4 and a.shape[-1] not in (1, 3)) or len(a) == 0:
        raise UserError(f"{path}: 'images' must be uint8 N x H x W x C with C 1 or 3, got {a.dtype} {tuple(a.shape)}")
    return from_uint8(a)


def _generator_batches(
    method, n: int, seed: int, labels: torch.Tensor | None = None, batch_size: int = 500
) -> Iterator[torch.Tensor]:
    """``n`` samples in batches, from seeded latents; of the classes ``labels`` for a conditional generator."""
    g = torch.Generator().manual_seed(seed)
    for start in range(0, n, batch_size):
        z = torch.randn(min(batch_size, n - start), method.z_dim, generator=g)
        yield (method.sample(z) if labels is None else method.sample(z, labels[start : start + len(z)])).cpu()


def load_source(source: str | Path, n: int, seed: int = 0) -> tuple[str, torch.Tensor | None, Path | None]:
    """(kind, images or None for a run, run directory or None). Images are at most ``n``."""
    p = Path(source)
    if (p / "config.yaml").is_file():
        return "run", None, p
    if p.is_dir():
        from gankit.data.folder import load_folder

        return "folder", load_folder(str(p)).x[:n], None
    if p.suffix == ".npz":
        if not p.is_file():
            raise UserError(f"{p}: no such file")
        return "npz", load_npz(p)[:n], None
    raise UserError(f"{source}: not a run directory, a folder of images or an .npz file")


def evaluate(
    source: str | Path,
    against: str = "fashion-mnist:test",
    *,
    extractor: str | None = None,
    n: int = 10_000,
    metrics: tuple[str, ...] | list[str] | None = None,
    out_dir: str | Path | None = None,
    json_path: str | Path | None = None,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Evaluate generated images against a dataset split.

    Args:
        source: a run directory (its generator draws ``n`` samples), a folder of images, or an ``.npz``.
        against: ``DATASET[:SPLIT]`` (split default ``test``).
        extractor: feature extractor name or TorchScript path (default: the dataset's classifier, else inception).
        n: number of generated samples, and of real images of the split (at most the split's size).
        metrics: any of ``fid kid is pr dc classes memorisation conditional`` (default: all; the scores of
            :mod:`gankit.metrics.scoring`, memorisation, and for a class-conditional run the scores of
            :mod:`gankit.metrics.conditional`; skipped silently for other sources unless asked for by name).
        out_dir: where the memorisation grid goes (default: ``<run>/eval`` or ``./eval``).
        json_path: also write the results as JSON here.
        seed: seed of the latent draws and of the real subset.
        progress: show progress bars.

    Returns:
        A dict of results: ``source``, ``against``, ``extractor``, ``n_fake``, ``n_real``, the scores' keys
        (``fid``, ``kid``/``kid_std``, ``is``/``is_std``, ``precision``, ``recall``, ``density``,
        ``coverage``, ``classes_hit``, ``class_entropy``, ``class_kl``, ``class_histogram``), the
        ``memorisation_*`` keys, ``class_accuracy``, ``intra_fid`` and ``intra_fid_by_class`` (a dict)
        for a class-conditional run, ``seconds``, and ``note`` when something was skipped.
    """
    t0 = time.monotonic()
    names = check_names(metrics or DEFAULT_METRICS, extra=EXTRAS)
    if n < 2:
        raise UserError(f"-n {n}: need at least 2 samples")
    dataset, split = parse_against(against)
    kind, images, run_dir = load_source(source, n, seed)  # bad inputs fail before any slow work
    method = None
    if kind == "run":  # (a run without a generator fails here too)
        assert run_dir is not None  # load_source names a run's directory
        method = load_generator(run_dir)[0]
    ex = get_extractor(extractor or default_extractor(dataset))
    classes = tuple(getattr(method, "classes", None) or ())  # a class-conditional generator has names
    labels = balanced_labels(n, len(classes)) if classes else None  # every class equally often, said explicitly

    real_f, real_p, real_idx = reference_features(dataset, split, ex, n, seed=seed, progress=progress)
    if kind == "run":
        batches = _generator_batches(method, n, seed, labels)
        rate = getattr(getattr(method, "spec", None), "rate", 0)
        if rate and rate != SAMPLE_RATE:  # audio references load at 16 kHz (a run may be at data.sample_rate=8000)
            batches = (resample_clips(b, rate) for b in batches)
        kept: list[torch.Tensor] = []

        def keep(it):  # keep the images for the memorisation check while extracting
            for xb in it:
                kept.append(xb)
                yield xb

        fake_f, fake_p = extract(ex, keep(batches), total=n, progress=progress, desc="sample features")
        images = torch.cat(kept)
    else:
        assert images is not None  # load_source reads a folder's or file's images
        fake_f, fake_p = extract(ex, images, progress=progress, desc="sample features")

    res: dict = {
        "source": str(source),
        "against": f"{dataset}:{split}",
        "extractor": ex.name,
        "n_fake": len(fake_f),
        "n_real": len(real_f),
    }
    scores = [m for m in names if m in SCORES]
    if fake_p is None and any(SCORES[m].needs_probs for m in scores):
        real_p, fake_p = _classifier_probs(res, dataset, split, images, n, seed)
    _update(res, score_features(FeatureSet(real_f, real_p, fake_f, fake_p, seed=seed), scores))
    if "memorisation" in names:
        out_dir = Path(out_dir) if out_dir else (run_dir / "eval" if run_dir else Path("eval"))
        _update(res, _memorisation(images, dataset, ex, fake_f, out_dir))
    if "conditional" in names and (classes or metrics):  # asked for by name: say why there is nothing
        if not classes:
            _update(res, {"note": f"conditional skipped: the {kind} is not a class-conditional generator"})
        else:
            assert labels is not None  # drawn above for a class-conditional generator
            try:
                cond = score_conditional_samples(
                    images, labels, classes, dataset, split, ex, fake_f, fake_p, real_f, real_idx
                )
            except UserError as e:
                cond = {"note": f"conditional skipped: {e}"}
            _update(res, cond)
    res["seconds"] = time.monotonic() - t0
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(res, indent=2))
    return res


def _update(res: dict, new: dict) -> None:
    """``res.update(new)``, keeping the notes of both."""
    if "note" in res and "note" in new:
        new = {**new, "note": f"{res['note']}; {new['note']}"}
    res.update(new)


def _classifier_probs(res: dict, dataset: str, split: str, images, n: int, seed: int) -> tuple:
    """(real, fake) class probabilities of the dataset's shipped classifier, for an extractor without a head.

    Returns (None, None) when the dataset has no shipped classifier; the scores needing them are then skipped.
    """
    clf = default_extractor(dataset)
    if clf == "inception":
        return None, None
    res["classifier"] = clf
    return reference_features(dataset, split, clf, n, seed=seed)[1], extract(clf, images)[1]


def _memorisation(images: torch.Tensor, dataset: str, ex, fake_f, out_dir: Path) -> dict:
    """Nearest training images of (up to 500) samples: ``memorisation_*`` keys, or a ``note`` when it cannot run."""
    from gankit.data import load_dataset

    try:
        train = load_dataset(dataset, split="train").x
    except UserError as e:
        return {"note": f"memorisation skipped: {e}"}
    if train.shape[1:] != images.shape[1:]:
        shapes = f"samples are {tuple(images.shape[1:])}, training images {tuple(train.shape[1:])}"
        return {"note": f"memorisation skipped: {shapes}"}
    # Feature-space neighbours among a cached subset of the training split, in the domain classifier's
    # features when the dataset has one (Inception on 10,000 more images would take ~20 CPU minutes).
    m = min(len(images), 500)  # 500 x 60,000 pixel distances: a few seconds
    mem_ex = default_extractor(dataset)
    if mem_ex == "inception" or mem_ex == ex.name:
        mem_ex, sample_f = ex, fake_f[:m]
    else:
        sample_f = extract(mem_ex, images[:m])[0]
    # as many training images as samples (at least 1,000; at most 10,000, or 2,000 for Inception)
    n_train = min(max(len(fake_f), 1000), 10_000 if get_extractor(mem_ex).batch_size > 100 else 2000)
    tr_f, _, tr_idx = reference_features(dataset, "train", mem_ex, n_train, seed=0)
    thr_file = cache_dir() / "eval" / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', dataset)}-train-nn-threshold.json"
    threshold = (
        json.loads(thr_file.read_text())["threshold"]
        if thr_file.is_file() and not dataset.startswith("folder:")
        else None
    )
    rep = memorisation(
        images[:m],
        train,
        threshold=threshold,
        out=out_dir / "memorisation.png",
        sample_features=sample_f,
        train_features=tr_f,
        train_feature_images=train[tr_idx],
    )
    if threshold is None and not dataset.startswith("folder:"):
        thr_file.parent.mkdir(parents=True, exist_ok=True)
        thr_file.write_text(json.dumps({"threshold": rep.threshold}))
    return {
        "memorisation_fraction": rep.fraction_closer,
        "memorisation_threshold": rep.threshold,
        "memorisation_median_distance": rep.median_sample_distance,
        "memorisation_grid": str(rep.grid),
    }


def format_table(res: dict) -> str:
    """The results as a two-column text table."""
    rows = []
    for k, v in res.items():
        if k == "class_histogram":
            v = " ".join(f"{x:.2f}" for x in v)
        elif k == "intra_fid_by_class":
            v = ", ".join(f"{name} {x:.4g}" for name, x in v.items())
        elif isinstance(v, float):
            v = f"{v:.6g}"
        rows.append((k, str(v)))
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{w}}  {v}" for k, v in rows)
