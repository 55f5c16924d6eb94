"""``gankit.cas`` (``gankit cas``; this module is ``gankit.cas_score`` so that ``gankit.cas`` stays the function):
the Classification Accuracy Score of a class-conditional generator.

Ravuri & Vinyals 2019 ("Classification Accuracy Score for Conditional Generative Models"): train a
classifier *only* on samples G(z, y), each labelled with the class y it was asked for, and test it on the
real test split. A generator whose classes are right but narrow (a few typical garments per class) scores
well on FID-like measures and badly here, since the classifier never sees the real variety; the paper's
BigGAN-deep reaches 43% top-1 on ImageNet where real data gives 73%. Shmelkov et al. 2018 ("How good is my
GAN?") call the same score GAN-train.

The classifier is the shipped one's architecture (:func:`gankit.nets.classifier.small_cnn`) trained by the
shipped one's first-stage recipe (:func:`gankit.metrics.classifier_training.fit_classifier`: Adam, cosine
schedule, 2-pixel shifts and flips for garments), on as many class-balanced samples as the real training
split has images by default (the paper's choice). Beside it stands the same classifier trained the same way
on the real training split, cached by recipe. ``mix=F`` trains on the real split plus F times as many
samples instead, and reports the change over real data alone (the paper's data-augmentation experiment).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path

import torch
from tqdm import tqdm

from gankit.data import load_dataset
from gankit.data.fashion_mnist import cache_dir
from gankit.errors import UserError
from gankit.metrics.classifier_training import BATCH_SIZE, EPOCHS, FLIP_OK, LR, SHIPPED, fit_classifier
from gankit.metrics.conditional import balanced_labels
from gankit.metrics.scoring import register_direction
from gankit.train.restore import load_generator

DATASETS = tuple(SHIPPED.values())  # the labelled datasets with a shipped classifier (and so a recipe)
SAMPLE_CHUNK = 500  # latents per call of the sampler
register_direction("cas", True)
register_direction("mix_accuracy", True)


def accuracy_by_class(model, x: torch.Tensor, y: torch.Tensor, classes: list[str]) -> tuple[float, dict[str, float]]:
    """The accuracy of ``model`` on labelled images, and per class (the share of class k's images put in k)."""
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(xb).argmax(1) for xb in x.split(1000)])
    hit = (pred == y).double()
    return hit.mean().item(), {name: hit[y == k].mean().item() for k, name in enumerate(classes)}


def _recipe(epochs: int, seed: int, flip: bool) -> dict:
    return {"epochs": epochs, "batch_size": BATCH_SIZE, "lr": LR, "seed": seed, "augment": True, "flip": flip}


def real_baseline(
    dataset: str, train, test, *, epochs: int = EPOCHS, seed: int = 0, progress: bool = True, cache: bool = True
) -> dict:
    """Test accuracy (overall and per class) of the classifier trained by the recipe on the real training split.

    Cached in ``<gankit cache>/cas/`` under a digest of the recipe and the data's shape, since it does not
    depend on the generator (about 7 CPU-minutes on Fashion-MNIST).

    Returns:
        ``{"accuracy": float, "by_class": {name: float}, "recipe": {...}}``.
    """
    recipe = _recipe(epochs, seed, dataset in FLIP_OK)
    key = json.dumps({"dataset": dataset, "shape": list(train.x.shape), **recipe}, sort_keys=True)
    path = cache_dir() / "cas" / f"{dataset}-real-{hashlib.sha1(key.encode()).hexdigest()[:12]}.json"
    if cache and path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            pass  # a damaged cache file is recomputed
    desc = f"classifier on real {dataset}"
    model = fit_classifier(train.x, train.y, len(train.classes), **_fit_args(recipe), desc=desc, progress=progress)
    acc, by_class = accuracy_by_class(model, test.x, test.y, train.classes)
    res = {"accuracy": acc, "by_class": by_class, "recipe": recipe}
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # concurrent jobs share the cache
        tmp.write_text(json.dumps(res, indent=1))
        tmp.replace(path)
    return res


def _fit_args(recipe: dict) -> dict:
    return {k: recipe[k] for k in ("epochs", "batch_size", "lr", "seed", "augment", "flip")}


def generated_set(method, n: int, seed: int, progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` samples of a class-conditional generator with balanced labels (0, 1, ..., K-1, 0, ...) from seeded
    latents: (images, the labels they were asked for)."""
    y = balanced_labels(n, len(method.classes))
    z = torch.randn(n, method.z_dim, generator=torch.Generator().manual_seed(seed))
    out = []
    with tqdm(total=n, desc="generating the training set", unit="img", disable=not progress) as bar:
        for zb, yb in zip(z.split(SAMPLE_CHUNK), y.split(SAMPLE_CHUNK)):
            out.append(method.sample(zb, yb).cpu())
            bar.update(len(zb))
    return torch.cat(out), y


def _check(method, cfg, run_dir, mix: float | None, n: int | None, epochs: int) -> None:
    """One-line errors for what CAS cannot do, before any slow work."""
    if not getattr(method, "classes", None):
        raise UserError(
            f"{run_dir}: the {cfg.method} run is unconditional; CAS needs a class-conditional generator (method: cgan)"
        )
    if cfg.data.name not in DATASETS:
        raise UserError(
            f"data.name={cfg.data.name}: CAS needs a labelled dataset with a test split ({', '.join(DATASETS)})"
        )
    if mix is not None and not (math.isfinite(mix) and mix > 0):
        raise UserError(f"--mix {mix}: the fraction of generated images must be a positive number (0.5: half as many)")
    if mix is not None and n is not None:
        raise UserError(f"-n {n} and --mix {mix}: --mix sets the number of samples (F x the real training split)")
    if n is not None and n < len(method.classes):
        raise UserError(f"-n {n}: need at least one sample per class ({len(method.classes)})")
    if epochs <= 0:
        raise UserError(f"--epochs {epochs}: must be positive")


def cas(
    run_dir: str | Path,
    *,
    mix: float | None = None,
    n: int | None = None,
    epochs: int = EPOCHS,
    seed: int = 0,
    json_path: str | Path | None = None,
    progress: bool = True,
) -> dict:
    """Classification Accuracy Score of a class-conditional run, beside the same classifier on real data.

    Args:
        run_dir: a run of a class-conditional generator (``method: cgan``) on ``fashion-mnist`` or
            ``mnist-5k`` (the run's ``data.name``).
        mix: train on the real training split plus ``mix`` times as many samples (None: on samples alone).
        n: samples to train on without ``mix`` (default: as many as the real training split has images).
        epochs: epochs of the recipe (over the samples, or over real + samples).
        seed: seed of the latents and of the classifier's training.
        json_path: also write the results as JSON here.
        progress: show progress bars.

    Returns:
        ``run``, ``dataset``, ``n_generated``, ``n_real_train``, ``epochs``, ``seed``, ``real_accuracy`` and
        ``real_accuracy_by_class`` (the classifier trained on real data), then ``cas`` and ``cas_by_class``
        (trained on samples alone), or with ``mix`` ``mix``, ``mix_accuracy``, ``mix_accuracy_by_class`` and
        ``mix_change`` (mix_accuracy - real_accuracy); and ``seconds``. Accuracies are on the real test split.
    """
    t0 = time.monotonic()
    method, cfg = load_generator(run_dir)
    _check(method, cfg, run_dir, mix, n, epochs)
    dataset, classes = cfg.data.name, list(method.classes)
    shape = {"img_size": cfg.data.img_size, "channels": cfg.data.channels}
    train, test = load_dataset(dataset, "train", **shape), load_dataset(dataset, "test", **shape)
    if tuple(train.x.shape[2:]) != (28, 28):
        raise UserError(f"data.img_size={cfg.data.img_size}: the classifier's architecture takes 28 x 28 images")
    if len(train.classes) != len(classes):
        raise UserError(f"{run_dir}: the generator has {len(classes)} classes, {dataset} {len(train.classes)}")
    assert train.y is not None and test.y is not None  # a labelled dataset (its classes were checked above)
    real = real_baseline(dataset, train, test, epochs=epochs, seed=seed, progress=progress)
    n_gen = round(mix * len(train)) if mix is not None else (n or len(train))
    x_gen, y_gen = generated_set(method, n_gen, seed, progress)
    if mix is not None:
        x_gen, y_gen = torch.cat([train.x, x_gen]), torch.cat([train.y, y_gen])
    recipe = _recipe(epochs, seed, dataset in FLIP_OK)
    what = f"real {dataset} + {n_gen} samples" if mix is not None else f"{n_gen} samples"
    model = fit_classifier(
        x_gen, y_gen, len(classes), **_fit_args(recipe), desc=f"classifier on {what}", progress=progress
    )
    acc, by_class = accuracy_by_class(model, test.x, test.y, classes)
    res = {
        "run": str(run_dir),
        "dataset": dataset,
        "n_generated": n_gen,
        "n_real_train": len(train) if mix is not None else 0,
        "epochs": epochs,
        "seed": seed,
        "real_accuracy": real["accuracy"],
        "real_accuracy_by_class": real["by_class"],
    }
    if mix is None:
        res |= {"cas": acc, "cas_by_class": by_class}
    else:
        res |= {
            "mix": mix,
            "mix_accuracy": acc,
            "mix_accuracy_by_class": by_class,
            "mix_change": acc - real["accuracy"],
        }
    res["seconds"] = time.monotonic() - t0
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(res, indent=2))
    return res


def format_table(res: dict) -> str:
    """The results as text: the headline numbers, then one row per class (real data beside the run's)."""
    head = "cas" if "cas" in res else "mix_accuracy"
    keys = ["run", "dataset", "n_generated", "n_real_train", "epochs", "real_accuracy", head]
    keys += ["mix", "mix_change"] if head == "mix_accuracy" else []
    rows = [(k, f"{res[k]:.4f}" if isinstance(res[k], float) and k != "mix" else str(res[k])) for k in keys]
    rows.append(("seconds", f"{res['seconds']:.0f}"))
    w = max(len(k) for k, _ in rows)
    lines = [f"{k:<{w}}  {v}" for k, v in rows]
    by_class = res[f"{head}_by_class"]
    cw = max(len(c) for c in by_class)
    lines.append(f"\n{'class':<{cw}}  {'real':>6}  {'cas' if head == 'cas' else 'mix':>6}")
    lines += [f"{c:<{cw}}  {res['real_accuracy_by_class'][c]:>6.3f}  {a:>6.3f}" for c, a in by_class.items()]
    return "\n".join(lines)
