"""Scores for class-conditional generators: does G(z, y) draw class y, and how good is each class?

- **Class accuracy**: the share of samples G(z, y) that a classifier trained on real data puts in class y.
  Odena, Olah & Shlens 2017 (AC-GAN, sec. 4.1) measure it with an Inception network; Shmelkov, Schmid &
  Alahari 2018 ("How good is my GAN?") call it GAN-test. Here the classifier is the dataset's shipped one
  (:func:`gankit.metrics.extractors.default_extractor`).
- **Intra-class FID**: the FID between the samples of class k and the real images of class k, for each k,
  and its mean over the classes (Miyato & Koyama 2018, "cGANs with Projection Discriminator", sec. 5.1).
  Unlike the FID of the whole mix, it sees a generator that draws a good garment of the wrong class, or
  one class well and another badly.

The functions on features are pure; :func:`conditional_scores` draws the samples of a generator with
balanced labels and scores them against a labelled split, for ``gankit evaluate`` and for a method's
``evaluate()`` during training.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from gankit.errors import UserError
from gankit.metrics.extractors import default_extractor, extract, get_extractor
from gankit.metrics.fid import fid
from gankit.metrics.reference import reference_features, reference_labels
from gankit.metrics.scoring import _rng_devices, register_direction

SAMPLE_CHUNK = 500  # latents per call of the sampler

register_direction("class_accuracy", True)  # 1 when every sample is of the class it was asked for
register_direction("intra_fid", False)  # 0 when every class matches its real images


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """Class indices 0, 1, ..., K-1, 0, 1, ... for ``n`` samples: every class equally often (within one)."""
    return torch.arange(n) % num_classes


def class_accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of samples whose most probable class is the one asked for.

    Args:
        probs: N x K class probabilities (or logits: only the argmax counts) of a classifier on the samples.
        labels: N requested class indices.

    Returns:
        A float in [0, 1]; 1/K for a generator that ignores the class (against a balanced request).

    Example:
        >>> class_accuracy(torch.tensor([[0.9, 0.1], [0.8, 0.2]]), torch.tensor([0, 1]))
        0.5
    """
    if len(probs) != len(labels) or len(labels) == 0:
        raise ValueError(f"need as many labels as rows of probabilities (>= 1), got {len(labels)} and {len(probs)}")
    return (probs.argmax(1).cpu() == labels.cpu()).double().mean().item()


def intra_fid(
    real_features: torch.Tensor,
    real_labels: torch.Tensor,
    fake_features: torch.Tensor,
    fake_labels: torch.Tensor,
    num_classes: int,
) -> list[float]:
    """FID per class: between the generated features of class k and the real features of class k.

    Args:
        real_features, real_labels: N x D features of real images and their N class indices.
        fake_features, fake_labels: M x D features of samples and the M classes they were asked for.
        num_classes: K; every class needs at least 2 real and 2 generated feature vectors.

    Returns:
        K distances (the intra-class FID of Miyato & Koyama 2018 is their mean).

    Examples:
        >>> f, y = torch.randn(40, 3), torch.arange(40) % 2
        >>> [round(d, 9) for d in intra_fid(f, y, f + torch.tensor([1.0, 0.0, 0.0]) * y[:, None], y, 2)]
        [0.0, 1.0]
    """
    out = []
    for k in range(num_classes):
        real, fake = real_features[real_labels.cpu() == k], fake_features[fake_labels.cpu() == k]
        if len(real) < 2 or len(fake) < 2:
            raise ValueError(
                f"class {k}: intra-class FID needs 2 real and 2 generated images, got {len(real)}, {len(fake)}"
            )
        out.append(fid(real, fake))
    return out


def conditional_report(
    real_features: torch.Tensor,
    real_labels: torch.Tensor,
    fake_features: torch.Tensor,
    fake_labels: torch.Tensor,
    classes: Sequence[str],
    classifier_probs: torch.Tensor | None = None,
) -> dict:
    """The conditional scores from features: ``class_accuracy`` (when ``classifier_probs`` are given: the
    dataset classifier's N x K probabilities on the samples), ``intra_fid`` (the mean over classes) and
    ``intra_fid_by_class`` (class name -> FID)."""
    by_class = intra_fid(real_features, real_labels, fake_features, fake_labels, len(classes))
    res: dict[str, Any] = {}
    if classifier_probs is not None:
        res["class_accuracy"] = class_accuracy(classifier_probs, fake_labels)
    res["intra_fid"] = sum(by_class) / len(by_class)
    res["intra_fid_by_class"] = dict(zip(classes, by_class))
    return res


def score_conditional_samples(
    images: torch.Tensor,
    labels: torch.Tensor,
    classes: Sequence[str],
    dataset: str,
    split: str,
    extractor,
    fake_features: torch.Tensor,
    fake_probs: torch.Tensor | None,
    real_features: torch.Tensor,
    real_index: torch.Tensor,
) -> dict:
    """:func:`conditional_report` for samples already drawn and featurised (``gankit evaluate`` has them).

    Args:
        images, labels: the samples and the classes they were asked for.
        classes: the generator's class names.
        dataset, split: the real data; ``real_features`` are ``extractor``'s features of its images
            ``real_index`` (:func:`gankit.metrics.reference.reference_features`).
        extractor: the :class:`~gankit.metrics.extractors.Extractor` of ``fake_features`` and ``fake_probs``.

    Raises:
        UserError: the split has no labels or more classes than the generator, or a class has fewer than 2
            real images in the subset.
    """
    real_labels = reference_labels(dataset, split, real_index)
    if real_labels is None:
        raise UserError(f"{dataset}:{split} has no class labels; the conditional scores need them")
    if int(real_labels.max()) + 1 > len(classes):
        raise UserError(f"{dataset}:{split} has {int(real_labels.max()) + 1} classes, the generator {len(classes)}")
    clf = default_extractor(dataset)
    if clf == "inception":  # no shipped classifier for this dataset: no accuracy
        probs = None
    else:
        probs = fake_probs if extractor.name == clf else extract(clf, images)[1]
    try:
        return conditional_report(real_features, real_labels, fake_features, labels, classes, probs)
    except ValueError as e:  # a class without 2 real images in the subset
        raise UserError(f"{dataset}:{split}, {len(real_labels)} real images: {e}") from None


def conditional_scores(
    sample: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    z_dim: int,
    classes: Sequence[str],
    dataset: str,
    split: str = "test",
    n: int = 10_000,
    extractor: str | None = None,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """Score a class-conditional generator against a labelled dataset split.

    ``n`` latents (seeded, from their own generator) with balanced labels (:func:`balanced_labels`) are
    drawn in chunks of 500; the dataset's shipped classifier gives the class accuracy, ``extractor``'s
    features the intra-class FID against the same-class images of a cached seeded subset of ``n`` images of
    the split. The global RNG is seeded with ``seed`` for the sampler's own draws and restored afterwards, so
    calling this during training changes nothing else.

    Args:
        sample: ``sample(z, y)``: B latents and B class indices -> B images in [-1, 1] (``method.sample``).
        z_dim: the latent size.
        classes: the generator's class names, in index order.
        dataset, split: the real data (``fashion-mnist``, ``test``).
        n: samples, and real images (at most the split's size).
        extractor: features for the intra-class FID (default: the dataset's classifier, else Inception).
        seed: seed of the latents and of the real subset.
        progress: show progress bars.

    Returns:
        ``class_accuracy`` (absent when the dataset has no shipped classifier), ``intra_fid`` and
        ``intra_fid_by_class`` (a dict: class name -> FID).
    """
    if n < 2 * len(classes):
        raise UserError(f"-n {n}: the conditional scores need at least 2 samples per class ({2 * len(classes)})")
    devices = _rng_devices()
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        ex = get_extractor(extractor or default_extractor(dataset))  # built once, with a random init first
        torch.default_generator.manual_seed(seed)  # a sampler drawing noise of its own draws the same each call
        for d in devices:
            torch.cuda.default_generators[d].manual_seed(seed)
        real_f, _, real_idx = reference_features(dataset, split, ex, n, seed=seed, progress=progress)
        y = balanced_labels(n, len(classes))
        z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed))
        chunks = zip(z.split(SAMPLE_CHUNK), y.split(SAMPLE_CHUNK))
        images = torch.cat([sample(zb, yb).cpu() for zb, yb in chunks])
        fake_f, fake_p = extract(ex, images, progress=progress, desc="sample features")
        return score_conditional_samples(images, y, classes, dataset, split, ex, fake_f, fake_p, real_f, real_idx)
