"""One registry of scores on features, shared by ``gankit evaluate`` and evaluation during training.

A *score* is a function of a :class:`FeatureSet` (real and generated features, and class
probabilities when the extractor has a classifier head) returning a dict under its own keys; it is
registered under a short name with :func:`register_score`, as the metric registry of StyleGAN2-ADA
(Karras et al. 2020, ``metrics/metric_main.py``). The names and the keys they produce:

========  ===============================================================  ==========================
name      keys                                                             paper
========  ===============================================================  ==========================
fid       fid                                                              Heusel et al. 2017
kid       kid, kid_std (100 subsets of min(1000, n))                       Bińkowski et al. 2018
is        is, is_std (needs class probabilities)                           Salimans et al. 2016
pr        precision, recall (k = 3)                                        Kynkäänniemi et al. 2019
dc        density, coverage (k = 5)                                        Naeem et al. 2020
classes   classes_hit, class_entropy, class_kl, class_histogram (a list)   (needs class probabilities)
========  ===============================================================  ==========================

:class:`GeneratorScorer` scores a generator during training with the same registry, so a key means
the same number in ``metrics.csv`` and in ``gankit evaluate``'s JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable, Sequence

import torch

from gankit.errors import UserError
from gankit.metrics.classes import class_coverage
from gankit.metrics.extractors import default_extractor, extract, get_extractor
from gankit.metrics.fid import fid
from gankit.metrics.inception_score import inception_score
from gankit.metrics.kid import kid
from gankit.metrics.prdc import prdc
from gankit.metrics.reference import reference_features

KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000  # the reference protocol (Bińkowski et al. 2018), capped at n
LATENT_SEED = 12345  # GeneratorScorer's fixed latent batch
SAMPLE_CHUNK = 500  # latents per call of the sampler


@dataclass
class FeatureSet:
    """What every score reads: features (and class probabilities) of real and generated images.

    Args:
        real_features: N x D features of real images.
        real_probs: N x K class probabilities of the real images, or None.
        fake_features: M x D features of generated images.
        fake_probs: M x K class probabilities of the generated images, or None (scores that need
            them are then skipped with a note).
        seed: seed of the random subsets (KID).
    """

    real_features: torch.Tensor
    real_probs: torch.Tensor | None
    fake_features: torch.Tensor
    fake_probs: torch.Tensor | None
    seed: int = 0

    @cached_property
    def neighbours(self) -> dict[str, float]:
        """Precision, recall, density and coverage from one pass over the shared neighbour distances."""
        return prdc(self.real_features, self.fake_features)


@dataclass(frozen=True)
class Score:
    """A registered score: its function, the keys it produces and which way each is better."""

    name: str
    fn: Callable[[FeatureSet], dict]
    keys: tuple[str, ...]
    needs_probs: bool = False


SCORES: dict[str, Score] = {}
# Whether a larger value is better, per key; None for keys without an order (a histogram).
_DIRECTIONS: dict[str, bool | None] = {}


def register_score(
    name: str, keys: Sequence[str], higher_is_better: bool | Sequence[bool | None], needs_probs: bool = False
):
    """Decorator: register ``fn(FeatureSet) -> dict`` as the score ``name`` producing ``keys``.

    Args:
        name: the name users ask for (``--metrics``, ``eval.metrics``).
        keys: the keys of the dict the function returns.
        higher_is_better: one direction for all keys, or one per key (None: a key with no order).
        needs_probs: the score reads class probabilities; without them it is skipped with a note.

    Returns:
        The decorator, which returns the function unchanged.
    """
    dirs = [higher_is_better] * len(keys) if isinstance(higher_is_better, bool) else list(higher_is_better)

    def decorator(fn: Callable[[FeatureSet], dict]) -> Callable[[FeatureSet], dict]:
        SCORES[name] = Score(name, fn, tuple(keys), needs_probs)
        _DIRECTIONS.update(zip(keys, dirs, strict=True))
        return fn

    return decorator


def register_direction(key: str, higher_is_better: bool) -> None:
    """Declare which way a key that a method or tool logs itself is better (e.g. ``target_acc``, higher).

    Args:
        key: the logged key.
        higher_is_better: True when a larger value is better.
    """
    if _DIRECTIONS.get(key, higher_is_better) != higher_is_better:
        raise ValueError(f"{key}: already registered with higher_is_better={_DIRECTIONS[key]}")
    _DIRECTIONS[key] = higher_is_better


def higher_is_better(key: str) -> bool:
    """Whether a larger value of ``key`` (``fid``, ``kid``, ``precision``, ..., or a registered one) is better.

    Args:
        key: a key a score produces or one given to :func:`register_direction`.

    Returns:
        True when larger is better.

    Raises:
        KeyError: for an unknown key, or for a key without an order (``class_histogram``).
    """
    if key not in _DIRECTIONS:
        known = ", ".join(k for k, v in _DIRECTIONS.items() if v is not None)
        raise KeyError(f"{key}: no direction known (known: {known})")
    if _DIRECTIONS[key] is None:
        raise KeyError(f"{key}: not a single number, so neither larger nor smaller is better")
    return bool(_DIRECTIONS[key])


def check_names(names: Iterable[str], extra: Sequence[str] = ()) -> list[str]:
    """The names, de-duplicated in the registry's order; a :class:`UserError` names the unknown ones.

    Args:
        names: score names asked for.
        extra: more names the caller handles itself (``gankit evaluate``'s ``memorisation``).

    Returns:
        The known names, registry order first, then ``extra``'s order.
    """
    names = list(names)
    known = [*SCORES, *extra]
    bad = [n for n in names if n not in known]
    if bad:
        raise UserError(f"metrics {','.join(bad)}: unknown (known: {', '.join(known)})")
    return [n for n in known if n in names]


def score_features(feature_set: FeatureSet, names: Iterable[str]) -> dict:
    """Run the named scores in the registry's order and merge their results.

    Args:
        feature_set: the features to score.
        names: score names (any of :data:`SCORES`).

    Returns:
        The scores' keys and values (floats; ``class_histogram`` is a list), plus ``note`` (a string)
        when scores needing class probabilities were skipped because there are none.
    """
    out: dict = {}
    skipped = []
    for name in check_names(names):
        s = SCORES[name]
        if s.needs_probs and feature_set.fake_probs is None:
            skipped.append(name)
            continue
        out.update(s.fn(feature_set))
    if skipped:
        out["note"] = f"{'/'.join(skipped)} skipped: the extractor has no classifier head"
    return out


@register_score("fid", keys=("fid",), higher_is_better=False)
def _fid(fs: FeatureSet) -> dict:
    return {"fid": fid(fs.real_features, fs.fake_features)}


@register_score("kid", keys=("kid", "kid_std"), higher_is_better=False)
def _kid(fs: FeatureSet) -> dict:
    mean, std = kid(fs.real_features, fs.fake_features, subsets=KID_SUBSETS, subset_size=KID_SUBSET_SIZE, seed=fs.seed)
    return {"kid": mean, "kid_std": std}


@register_score("is", keys=("is", "is_std"), higher_is_better=(True, False), needs_probs=True)
def _is(fs: FeatureSet) -> dict:
    # 10 splits as the reference code; one when there are fewer than 10 samples
    assert fs.fake_probs is not None  # needs_probs: the scorer computes them
    mean, std = inception_score(fs.fake_probs, splits=10 if len(fs.fake_probs) >= 10 else 1)
    return {"is": mean, "is_std": std}


@register_score("pr", keys=("precision", "recall"), higher_is_better=True)
def _pr(fs: FeatureSet) -> dict:
    return {k: fs.neighbours[k] for k in ("precision", "recall")}


@register_score("dc", keys=("density", "coverage"), higher_is_better=True)
def _dc(fs: FeatureSet) -> dict:
    return {k: fs.neighbours[k] for k in ("density", "coverage")}


@register_score(
    "classes",
    keys=("classes_hit", "class_entropy", "class_kl", "class_histogram"),
    higher_is_better=(True, True, False, None),
    needs_probs=True,
)
def _classes(fs: FeatureSet) -> dict:
    # the data's class distribution: the classifier's predictions on the real images (uniform without them)
    rp = fs.real_probs
    data = torch.bincount(rp.argmax(1), minlength=rp.shape[1]).double() if rp is not None else None
    cov = class_coverage(fs.fake_probs, data)
    return {
        "classes_hit": float(cov.classes_hit),
        "class_entropy": cov.entropy,
        "class_kl": cov.kl_to_data,
        "class_histogram": cov.histogram,
    }


def _rng_devices() -> list[int]:
    """CUDA devices whose generators a sampler may draw from (none unless CUDA is already in use)."""
    return [torch.cuda.current_device()] if torch.cuda.is_available() and torch.cuda.is_initialized() else []


class GeneratorScorer:
    """Scores a generator during training: a fixed latent batch, cached real features, :func:`score_features`.

    The latents come from their own generator (seed 12345), are drawn once and kept, so every call
    scores the same latents and a resumed run scores what the uninterrupted run would have. The global
    torch RNG (CPU, and the current CUDA device when CUDA is in use) is saved, seeded with 12345 for
    the sampler's own draws (noise inputs), and restored afterwards, so training's random stream is the
    same with and without evaluation.

    Args:
        data_name: the training dataset (``fashion-mnist``, ``mnist-5k``, ``folder:PATH``, ...).
        metrics: score names (any of :data:`SCORES`).
        extractor: feature extractor name or TorchScript path (None: the dataset's classifier, else inception).
        num_samples: generated images per call, and real images of the reference split.
        root: ``data.root``, the folder the training data was read from (None: the dataset's default place).
    """

    def __init__(
        self, data_name: str, metrics: list[str], extractor: str | None, num_samples: int, root: str | None = None
    ):
        self.metrics = check_names(metrics)  # fail at start-up, not after the first eval_every steps
        self.data_name, self.num_samples, self.root = data_name, num_samples, root
        self.extractor_name = extractor or default_extractor(data_name)
        # a folder has no test split: compare with the training images
        self.split = "train" if data_name.startswith("folder:") else "test"
        self._real: tuple[torch.Tensor, torch.Tensor | None] | None = None
        self._z: torch.Tensor | None = None

    @classmethod
    def from_config(cls, cfg) -> GeneratorScorer:
        """The scorer a run's config asks for (``eval.*``, on the training data ``data.name``/``data.root``)."""
        return cls(cfg.data.name, cfg.eval.metrics, cfg.eval.extractor, cfg.eval.num_samples, root=cfg.data.root)

    def __call__(self, sample: Callable[[torch.Tensor], torch.Tensor], z_dim: int) -> dict[str, float]:
        """Score ``sample`` (latents B x z_dim -> images in [-1, 1]) on the fixed latent batch.

        Args:
            sample: the generator, e.g. ``method.sample``.
            z_dim: latent size.

        Returns:
            The float-valued keys of the scores (``fid``, ``kid``, ``kid_std``, ``is``, ``precision``, ...).
        """
        devices = _rng_devices()
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            ex = get_extractor(self.extractor_name)  # built once, with a random init before its weights
            if self._real is None:
                self._real = reference_features(self.data_name, self.split, ex, self.num_samples, root=self.root)[:2]
            # after the one-off work: a sampler drawing noise from the global RNG draws the same each call
            torch.default_generator.manual_seed(LATENT_SEED)
            for d in devices:
                torch.cuda.default_generators[d].manual_seed(LATENT_SEED)
            if self._z is None or self._z.shape[1] != z_dim:
                self._z = torch.randn(self.num_samples, z_dim, generator=torch.Generator().manual_seed(LATENT_SEED))
            images = torch.cat([sample(zb).cpu() for zb in self._z.split(SAMPLE_CHUNK)])
            fake_f, fake_p = extract(ex, images)
            res = score_features(FeatureSet(*self._real, fake_f, fake_p), self.metrics)
        return {k: v for k, v in res.items() if isinstance(v, float)}
