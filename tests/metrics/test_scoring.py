"""The scoring registry: each key against its function, one neighbour pass for pr + dc, directions,
unknown names, and GeneratorScorer (same numbers twice, the global RNG untouched)."""

import pytest
import torch

import gankit.evaluation  # noqa: F401  (registers memorisation_fraction's direction)
from gankit.errors import UserError
from gankit.metrics import extractors, scoring
from gankit.metrics.classes import class_coverage
from gankit.metrics.extractors import extract
from gankit.metrics.fid import fid
from gankit.metrics.inception_score import inception_score
from gankit.metrics.kid import kid
from gankit.metrics.prdc import density_coverage, precision_recall
from gankit.metrics.reference import reference_features
from gankit.metrics.scoring import (
    SCORES, FeatureSet, GeneratorScorer, higher_is_better, register_direction, score_features,
)

ALL = list(SCORES)


def _features(seed=0, n_real=120, n_fake=100, d=6, k=5):
    g = torch.Generator().manual_seed(seed)
    real, fake = torch.randn(n_real, d, generator=g), torch.randn(n_fake, d, generator=g) * 1.2 + 0.3
    real_p = torch.randn(n_real, k, generator=g).softmax(1)
    fake_p = (2 * torch.randn(n_fake, k, generator=g)).softmax(1)
    return real, real_p, fake, fake_p


def test_every_key_is_its_function_on_the_features():
    real, real_p, fake, fake_p = _features()
    got = score_features(FeatureSet(real, real_p, fake, fake_p, seed=7), ALL)
    k_mean, k_std = kid(real, fake, subsets=100, subset_size=1000, seed=7)
    is_mean, is_std = inception_score(fake_p, splits=10)
    p, r = precision_recall(real, fake, k=3)
    d, c = density_coverage(real, fake, k=5)
    cov = class_coverage(fake_p, torch.bincount(real_p.argmax(1), minlength=5).double())
    want = {"fid": fid(real, fake), "kid": k_mean, "kid_std": k_std, "is": is_mean, "is_std": is_std,
            "precision": p, "recall": r, "density": d, "coverage": c, "classes_hit": float(cov.classes_hit),
            "class_entropy": cov.entropy, "class_kl": cov.kl_to_data, "class_histogram": cov.histogram}
    assert got == want
    assert list(got) == [k for s in SCORES.values() for k in s.keys]  # the registry's order, its declared keys
    # the order of the names asked for does not matter, nor do repeats
    got = score_features(FeatureSet(real, real_p, fake, fake_p), ["dc", "fid", "dc"])
    assert list(got) == ["fid", "density", "coverage"]


def test_scores_needing_probabilities_are_skipped_with_a_note():
    real, _, fake, _ = _features(1)
    got = score_features(FeatureSet(real, None, fake, None), ["fid", "is", "classes"])
    assert set(got) == {"fid", "note"} and "is/classes skipped" in got["note"]


def test_precision_recall_and_density_coverage_share_one_neighbour_pass(monkeypatch):
    calls = []
    real_prdc = scoring.prdc
    monkeypatch.setattr(scoring, "prdc", lambda *a, **kw: calls.append(1) or real_prdc(*a, **kw))
    real, real_p, fake, fake_p = _features(2)
    got = score_features(FeatureSet(real, real_p, fake, fake_p), ["dc", "pr", "fid"])
    assert len(calls) == 1 and {"precision", "recall", "density", "coverage"} <= set(got)


def test_every_key_has_a_direction():
    want = {"fid": False, "kid": False, "kid_std": False, "is": True, "is_std": False, "precision": True,
            "recall": True, "density": True, "coverage": True, "classes_hit": True, "class_entropy": True,
            "class_kl": False, "memorisation_fraction": False}
    keys = [k for s in SCORES.values() for k in s.keys if k != "class_histogram"] + ["memorisation_fraction"]
    assert {k: higher_is_better(k) for k in keys} == want
    with pytest.raises(KeyError, match="not a single number"):
        higher_is_better("class_histogram")
    with pytest.raises(KeyError, match="kid_mean: no direction"):
        higher_is_better("kid_mean")


def test_methods_register_their_own_keys(monkeypatch):
    monkeypatch.setattr(scoring, "_DIRECTIONS", dict(scoring._DIRECTIONS))  # leave the real registry as it was
    register_direction("target_acc", True)
    register_direction("target_acc", True)  # idempotent: a module imported twice
    assert higher_is_better("target_acc") is True
    with pytest.raises(ValueError, match="already registered"):
        register_direction("fid", True)


def test_unknown_metric_is_one_line_naming_the_known_ones():
    real, real_p, fake, fake_p = _features(3)
    with pytest.raises(UserError) as e:
        score_features(FeatureSet(real, real_p, fake, fake_p), ["fid", "fdi"])
    msg = str(e.value)
    assert "\n" not in msg and "fdi" in msg and all(name in msg for name in ALL)
    with pytest.raises(UserError, match="fdi"):
        GeneratorScorer("fashion-mnist", ["fdi"], None, 40)


class _Sampler:
    """A stand-in generator: a fixed random linear map of the latents to 28 x 28 images; records batch sizes."""

    def __init__(self, z_dim, noise=False):
        self.w = torch.randn(z_dim, 28 * 28, generator=torch.Generator().manual_seed(1)) / z_dim**0.5
        self.noise, self.sizes = noise, []

    def __call__(self, z):
        self.sizes.append(len(z))
        x = z @ self.w
        if self.noise:  # a generator with noise inputs draws from the global RNG
            x = x + 0.1 * torch.randn_like(x)
        return torch.tanh(x).reshape(-1, 1, 28, 28)


def test_generator_scorer_is_repeatable_and_leaves_the_global_rng_alone(monkeypatch):
    monkeypatch.setattr(extractors, "_LOADED", {})  # the extractor is built (random init, then weights) inside the call
    monkeypatch.setattr(scoring, "SAMPLE_CHUNK", 16)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    scorer = GeneratorScorer("fashion-mnist", ALL, None, 40)
    sampler = _Sampler(8, noise=True)
    first = scorer(sampler, 8)
    assert torch.equal(torch.get_rng_state(), state)
    assert sampler.sizes == [16, 16, 8]
    assert scorer(sampler, 8) == first and torch.equal(torch.get_rng_state(), state)
    # only floats, every float key of the six scores
    assert set(first) == {k for s in SCORES.values() for k in s.keys} - {"class_histogram"}
    assert all(isinstance(v, float) for v in first.values())


def test_generator_scorer_scores_the_seeded_latents_against_the_test_split():
    sampler = _Sampler(8)
    got = GeneratorScorer("fashion-mnist", ["fid", "kid", "pr"], "fashion-mnist-classifier", 40)(sampler, 8)
    # a resumed run builds a new scorer: the latents depend on the seed only
    z = torch.randn(40, 8, generator=torch.Generator().manual_seed(12345))
    fake_f, fake_p = extract("fashion-mnist-classifier", sampler(z))
    real_f, real_p, _ = reference_features("fashion-mnist", "test", "fashion-mnist-classifier", 40)
    assert got == score_features(FeatureSet(real_f, real_p, fake_f, fake_p, seed=0), ["fid", "kid", "pr"])
    assert list(got) == ["fid", "kid", "kid_std", "precision", "recall"]


def test_scoring_during_training_reads_the_reference_from_data_root(tmp_path):
    """The reference split comes from the folder the training data came from (data.root), not the default place."""
    empty = tmp_path / "my-fashion-mnist"
    empty.mkdir()
    scorer = GeneratorScorer("fashion-mnist", ["fid"], None, 8, root=str(empty))
    with pytest.raises(UserError, match="my-fashion-mnist"):
        scorer(lambda z: torch.zeros(len(z), 1, 28, 28), 4)
