"""FID, KID and IS against closed forms and against torchmetrics on the same features."""

import numpy as np
import pytest
import torch
from scipy.linalg import sqrtm

from gankit.metrics.fid import FID, fid, frechet_distance, gaussian_stats
from gankit.metrics.inception_score import InceptionScore, inception_score
from gankit.metrics.kid import KID, kid


def _random_cov(d, seed):
    a = np.random.default_rng(seed).normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_frechet_distance_matches_closed_form_of_two_gaussians():
    d = 16
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = _random_cov(d, 1), _random_cov(d, 2)
    closed = float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * sqrtm(s1 @ s2).real))
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(closed, rel=1e-6)


def test_frechet_distance_of_commuting_gaussians_by_hand():
    # diagonal covariances: Tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt(a) - sqrt(b))^2
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    expected = 5.0 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()  # 5 + 1 + 1 + 4 = 11
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(11.0, rel=1e-12)
    assert expected == 11.0


def test_fid_of_sampled_gaussians_and_of_a_set_with_itself():
    x = torch.randn(2000, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert abs(fid(x, x)) < 1e-9
    y = x * 2 + 3  # N(3, 4 I) vs N(0, I) in sample statistics: 8 * 9 + sum (2 sqrt(l) - sqrt(l))^2 terms
    a, b = gaussian_stats(x), gaussian_stats(y)
    closed = float(np.sum((a.mu - b.mu) ** 2) + np.trace(a.sigma + b.sigma - 2 * sqrtm(a.sigma @ b.sigma).real))
    assert fid(x, y) == pytest.approx(closed, rel=1e-6)


def test_fid_of_two_rank_one_sets_by_hand():
    # two samples each: S_a = u u^T, S_b = w w^T (u = (x1 - x2) / sqrt 2), so Tr((S_a S_b)^1/2) = |u . w|.
    # a = {3 e1, -e1}: mu_a = e1, u = 4 e1 / sqrt 2; b = {e1 + e2, -(e1 + e2)}: mu_b = 0, w = 2 (e1 + e2) / sqrt 2.
    # FID = |mu_a - mu_b|^2 + |u|^2 + |w|^2 - 2 |u . w| = 1 + 8 + 4 - 2 * 4 = 5, in 64 dimensions
    a, b = np.zeros((2, 64)), np.zeros((2, 64))
    a[0, 0], a[1, 0] = 3.0, -1.0
    b[0, :2], b[1, :2] = 1.0, -1.0
    assert fid(a, b) == pytest.approx(5.0, rel=1e-12)


@pytest.mark.parametrize("n_a, n_b", [(2, 3), (6, 6), (20, 45), (63, 5)])
def test_few_samples_take_the_low_rank_route_and_agree_with_the_covariance_route(n_a, n_b):
    # fewer samples than the feature size: fid() skips the D x D eigendecomposition (rank <= N - 1). The covariance
    # route sums square roots of its rounding-level eigenvalues too, so it reads ~1e-8 relative high: a 40-digit
    # mpmath computation of one such case agreed with the low-rank route to 16 digits, not with the covariance one
    g = torch.Generator().manual_seed(n_a + n_b)
    a = torch.randn(n_a, 64, generator=g, dtype=torch.float64)
    b = 1.5 * torch.randn(n_b, 64, generator=g, dtype=torch.float64) + 0.3
    sa, sb = gaussian_stats(a), gaussian_stats(b)
    assert n_a * n_b < 64 * 64  # (the low-rank route)
    assert fid(a, b) == pytest.approx(frechet_distance(sa.mu, sa.sigma, sb.mu, sb.sigma), rel=1e-7)
    closed = float(np.sum((sa.mu - sb.mu) ** 2) + np.trace(sa.sigma + sb.sigma - 2 * sqrtm(sa.sigma @ sb.sigma).real))
    assert fid(a, b) == pytest.approx(closed, rel=1e-6)
    assert abs(fid(a, a)) < 1e-9


def test_fid_refuses_a_single_sample_and_mismatched_sizes():
    with pytest.raises(ValueError, match="N >= 2"):
        fid(torch.randn(1, 8), torch.randn(5, 8))
    with pytest.raises(ValueError, match="feature sizes differ: 8 and 9"):
        fid(torch.randn(5, 8), torch.randn(5, 9))


def test_streaming_fid_equals_functional():
    g = torch.Generator().manual_seed(1)
    real, fake = torch.randn(300, 5, generator=g), torch.randn(200, 5, generator=g) + 0.5
    m = FID()
    for chunk in real.split(64):
        m.update(chunk, real=True)
    for chunk in fake.split(50):
        m.update(chunk, real=False)
    assert m.compute() == pytest.approx(fid(real, fake), rel=1e-9)
    m2 = FID(real_stats=gaussian_stats(real))
    m2.update(fake)
    assert m2.compute() == pytest.approx(fid(real, fake), rel=1e-9)
    m.reset()
    with pytest.raises(ValueError):
        m.compute()


def test_kid_is_zero_in_expectation_and_matches_closed_form_kernel_mmd():
    x = torch.randn(40, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    y = x + 1.0
    # one subset holding every sample: the plain unbiased MMD^2 with k = (x.y/3 + 1)^3
    k = lambda a, b: (a @ b.T / 3 + 1) ** 3  # noqa: E731
    m = 40
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    mmd = (kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (m * (m - 1)) - 2 * kxy.mean()
    mean, std = kid(x, y, subsets=3, subset_size=40)
    assert mean == pytest.approx(float(mmd), rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-9)  # every subset is the whole set


def test_inception_score_hand_values():
    assert inception_score(torch.eye(4), splits=1) == (pytest.approx(4.0), 0.0)
    assert inception_score(torch.full((6, 3), 1 / 3), splits=2) == (pytest.approx(1.0), pytest.approx(0.0))
    # two samples, each certain of a different class out of 2, plus two uniform: KL = (log 2 + log 2 + 0 + 0)/4
    p = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5]])
    assert inception_score(p, splits=1)[0] == pytest.approx(float(np.exp(np.log(2) / 2)), rel=1e-12)
    stream = InceptionScore(splits=1)
    stream.update(p[:2])
    stream.update(p[2:])
    assert stream.compute()[0] == pytest.approx(inception_score(p, splits=1)[0], rel=1e-12)


# ----------------------------------------------------------------------------- against torchmetrics


class _Identity(torch.nn.Module):
    """A 'feature extractor' that returns its input: torchmetrics then scores the given features."""

    def __init__(self, d):
        super().__init__()
        self.num_features = d

    def forward(self, x):
        return x


def test_fid_kid_is_agree_with_torchmetrics_on_the_same_features():
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.inception import InceptionScore as TMInceptionScore
    from torchmetrics.image.kid import KernelInceptionDistance

    g = torch.Generator().manual_seed(3)
    d = 32
    real = torch.randn(600, d, generator=g, dtype=torch.float64)
    fake = (torch.randn(500, d, generator=g, dtype=torch.float64) @ (torch.eye(d) + 0.2 * torch.randn(d, d, generator=g, dtype=torch.float64))) + 0.3

    tm_fid = FrechetInceptionDistance(feature=_Identity(d))
    tm_fid.update(real, real=True)
    tm_fid.update(fake, real=False)
    assert fid(real, fake) == pytest.approx(float(tm_fid.compute()), rel=1e-4)

    # KID: one subset with every sample removes the subset randomness on both sides.
    tm_kid = KernelInceptionDistance(feature=_Identity(d), subsets=1, subset_size=500)
    tm_kid.update(real[:500], real=True)
    tm_kid.update(fake, real=False)
    assert kid(real[:500], fake, subsets=1, subset_size=500)[0] == pytest.approx(float(tm_kid.compute()[0]), rel=1e-4)

    # IS: torchmetrics takes logits and shuffles with the global RNG; replay its permutation.
    logits = torch.randn(1000, 10, generator=g, dtype=torch.float64) * 3
    tm_is = TMInceptionScore(feature=_Identity(10), splits=10)
    tm_is.update(logits)
    torch.manual_seed(123)
    tm_mean, tm_std = tm_is.compute()
    torch.manual_seed(123)
    perm = torch.randperm(1000)
    mean, std = inception_score(logits[perm].softmax(1), splits=10)
    assert mean == pytest.approx(float(tm_mean), rel=1e-4)
    # torchmetrics reports the unbiased std over splits, the reference code (and gankit) the biased one
    assert std * np.sqrt(10 / 9) == pytest.approx(float(tm_std), rel=1e-4)


def test_streaming_kid_equals_functional():
    g = torch.Generator().manual_seed(4)
    a, b = torch.randn(120, 4, generator=g), torch.randn(100, 4, generator=g) + 0.2
    m = KID(subsets=5, subset_size=50, seed=7)
    m.update(a[:60], real=True)
    m.update(a[60:], real=True)
    m.update(b)
    assert m.compute() == kid(a, b, subsets=5, subset_size=50, seed=7)
