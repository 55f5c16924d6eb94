"""Inception Score (Salimans et al. 2016) on any classifier's class probabilities:

    IS = exp( E_x KL( p(y|x) || p(y) ) ),  p(y) = mean of p(y|x) over the split,

computed on each of ``splits`` consecutive chunks; the mean and the (biased, as np.std in the
reference code) standard deviation over chunks are reported. Its range is [1, number of classes].
"""

from __future__ import annotations

import torch


def inception_score(probs, splits: int = 10) -> tuple[float, float]:
    """Inception Score of N x K class probabilities (rows sum to 1).

    Args:
        probs: N x K probabilities (a softmax output).
        splits: number of consecutive chunks (``torch.chunk``) the score is averaged over.

    Returns:
        (mean, std) over splits.

    Example:
        >>> inception_score(torch.eye(10), splits=1)   # confident and diverse: the maximum, K
        (10.0, 0.0)
    """
    p = torch.as_tensor(probs).double()
    if p.ndim != 2 or len(p) < splits:
        raise ValueError(f"need N x K probabilities with N >= splits={splits}, got shape {tuple(p.shape)}")
    scores = []
    for chunk in p.chunk(splits, dim=0):
        py = chunk.mean(0, keepdim=True)
        # xlogy: 0 * log 0 = 0 for classes a sample gives zero probability
        kl = (torch.special.xlogy(chunk, chunk) - torch.special.xlogy(chunk, py)).sum(1).mean()
        scores.append(kl.exp())
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(unbiased=False))


class InceptionScore:
    """Streaming Inception Score: collects probabilities with ``update``, scores with ``compute``."""

    def __init__(self, splits: int = 10):
        self.splits = splits
        self.reset()

    def reset(self) -> None:
        self._probs: list[torch.Tensor] = []

    def update(self, probs) -> None:
        self._probs.append(torch.as_tensor(probs).detach().cpu().double())

    def compute(self) -> tuple[float, float]:
        return inception_score(torch.cat(self._probs), self.splits)
