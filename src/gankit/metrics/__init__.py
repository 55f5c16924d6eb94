"""Evaluation metrics: feature extractors, pure metric functions and their streaming objects.

See docs/evaluation.md. :mod:`gankit.metrics.scoring` registers them as named scores with one set of keys,
used by ``gankit.evaluate`` (``gankit.evaluation.evaluate``, the ``gankit evaluate`` command) and by
evaluation during training (:class:`~gankit.metrics.scoring.GeneratorScorer`).
"""

from gankit.metrics.classes import ClassCoverage, ClassCoverageMetric, class_coverage
from gankit.metrics.extractors import EXTRACTORS, Extractor, extract, get_extractor
from gankit.metrics.fid import FID, fid, frechet_distance, gaussian_stats
from gankit.metrics.inception_score import InceptionScore, inception_score
from gankit.metrics.kid import KID, kid
from gankit.metrics.memorisation import memorisation, nearest, neighbour_grid
from gankit.metrics.prdc import density_coverage, prdc, precision_recall
from gankit.metrics.scoring import (
    SCORES,
    FeatureSet,
    GeneratorScorer,
    higher_is_better,
    register_direction,
    register_score,
    score_features,
)

__all__ = [
    "EXTRACTORS",
    "Extractor",
    "extract",
    "get_extractor",
    "fid",
    "frechet_distance",
    "gaussian_stats",
    "FID",
    "kid",
    "KID",
    "inception_score",
    "InceptionScore",
    "precision_recall",
    "density_coverage",
    "prdc",
    "class_coverage",
    "ClassCoverage",
    "ClassCoverageMetric",
    "memorisation",
    "nearest",
    "neighbour_grid",
    "SCORES",
    "FeatureSet",
    "GeneratorScorer",
    "higher_is_better",
    "register_direction",
    "register_score",
    "score_features",
]
