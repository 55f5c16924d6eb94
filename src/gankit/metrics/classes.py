"""Class coverage: which classes a classifier sees in the samples (a mode-collapse alarm).

For predicted classes c(x) = argmax p(y|x) over M samples: the histogram h (fractions), its
entropy H(h) in nats (log K for a uniform spread over K classes, 0 when every sample is one class),
the KL divergence KL(h || q) to the data's class distribution q, and the number of classes hit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch


@dataclass
class ClassCoverage:
    histogram: list[float]  # fraction of samples predicted as each class
    entropy: float  # nats
    kl_to_data: float  # KL(histogram || data class distribution), nats
    classes_hit: int  # classes predicted for at least min_count samples
    num_classes: int

    def to_dict(self) -> dict:
        return asdict(self)


def class_coverage(probs, data_distribution=None, min_count: int = 1) -> ClassCoverage:
    """Class histogram of M samples from their N x K class probabilities.

    Args:
        probs: M x K class probabilities (or logits: only the argmax is used).
        data_distribution: K class frequencies of the data (default: uniform).
        min_count: a class counts as hit when at least this many samples fall in it.

    Returns:
        A :class:`ClassCoverage`.
    """
    p = torch.as_tensor(probs)
    k = p.shape[1]
    counts = torch.bincount(p.argmax(1), minlength=k).double()
    h = counts / counts.sum()
    q = (
        torch.full((k,), 1.0 / k, dtype=torch.float64)
        if data_distribution is None
        else torch.as_tensor(data_distribution, dtype=torch.float64)
    )
    q = q / q.sum()
    entropy = -torch.special.xlogy(h, h).sum()
    kl = (torch.special.xlogy(h, h) - torch.special.xlogy(h, q)).sum()
    return ClassCoverage(h.tolist(), float(entropy), float(kl), int((counts >= min_count).sum()), k)


class ClassCoverageMetric:
    """Streaming class coverage: ``update(probs)`` per batch, ``compute()``, ``reset()``."""

    def __init__(self, num_classes: int, data_distribution=None, min_count: int = 1):
        self.num_classes, self.data_distribution, self.min_count = num_classes, data_distribution, min_count
        self.reset()

    def reset(self) -> None:
        self.counts = torch.zeros(self.num_classes, dtype=torch.int64)

    def update(self, probs) -> None:
        self.counts += torch.bincount(torch.as_tensor(probs).argmax(1), minlength=self.num_classes)

    def compute(self) -> ClassCoverage:
        # one-hot rows reproduce the histogram exactly
        onehot = torch.repeat_interleave(torch.eye(self.num_classes), self.counts, dim=0)
        return class_coverage(onehot, self.data_distribution, self.min_count)
