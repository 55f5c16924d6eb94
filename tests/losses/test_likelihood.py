"""Likelihoods of the explicit models: the GMM's against scikit-learn, a density that integrates to one, the
VAE's ELBO and IWAE bounds at a hand value and in order."""

import math

import pytest
import torch
from torch.testing import assert_close

from gankit.losses.likelihood import (
    bernoulli_nll_per_image,
    dequantize,
    gmm_log_density,
    iwae_from_log_weights,
    pca_gmm_log_density,
    pca_residual_variance,
    vae_bounds,
    vae_log_weights,
)
from gankit.methods.gmm import GMMGenerator
from gankit.nets.vae import build_vae


def test_gmm_log_density_is_sklearns_score():
    """Per image, log p(x) is score_samples; the mean is sklearn's ``score`` (nats per image: no factor D)."""
    from sklearn.mixture import GaussianMixture

    g = torch.Generator().manual_seed(0)
    a = torch.randn(200, 3, generator=g) * 0.5 + 2
    x = torch.cat([a, torch.randn(300, 3, generator=g) @ torch.randn(3, 3, generator=g)])
    x = x.double()
    sk = GaussianMixture(3, covariance_type="full", random_state=0).fit(x.numpy())
    ours = gmm_log_density(*(torch.as_tensor(t) for t in (sk.weights_, sk.means_, sk.covariances_)), x)
    assert_close(ours, torch.as_tensor(sk.score_samples(x.numpy())))
    assert ours.mean().item() == pytest.approx(sk.score(x.numpy()), rel=1e-10)


def test_pca_gmm_density_integrates_to_one():
    """A 2-D density from a GMM on one principal component and a Gaussian on the other: sum p dA over a grid."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1000, 2, generator=g) * torch.tensor([2.0, 0.5]) + torch.tensor([0.5, -0.3])
    gmm = GMMGenerator(2, pca_components=1, seed=0).fit(x)
    s2 = pca_residual_variance(gmm, x)
    assert s2 == pytest.approx(0.25, rel=0.15)  # the discarded direction's variance (0.5^2)
    step = 0.05
    grid = torch.arange(-9, 9, step, dtype=torch.float64)
    yy, xx = torch.meshgrid(grid, grid, indexing="ij")
    p = pca_gmm_log_density(gmm, torch.stack([xx.flatten(), yy.flatten()], 1), s2).exp()
    assert p.sum().item() * step**2 == pytest.approx(1.0, abs=1e-3)


def test_dequantize_stays_in_the_pixels_cell():
    k = torch.randint(0, 256, (4, 1, 5, 5))
    y = dequantize(k.float() / 127.5 - 1, 256, torch.Generator().manual_seed(0))
    assert torch.equal((y * 256).floor().long(), k)
    b = torch.tensor([-1.0, 1.0])
    assert torch.equal((dequantize(b, 2) * 2).floor(), torch.tensor([0.0, 1.0]))


class _Prior(torch.nn.Module):
    """An encoder whose q(z|x) is the prior N(0, I)."""

    def forward(self, x):
        return torch.zeros(len(x), 3), torch.zeros(len(x), 3)


class _Constant(torch.nn.Module):
    """A decoder that ignores z: p(x|z) = p(x), Bernoulli logits b."""

    def __init__(self, b):
        super().__init__()
        self.b = b

    def forward(self, z):
        return self.b.expand(len(z), *self.b.shape)


def test_bounds_are_log_p_when_q_is_the_posterior():
    """z independent of x and q = prior = posterior: every weight is p(x), so ELBO = IWAE = log p(x) (hand value)."""
    b = torch.tensor([[[0.5, -1.0], [2.0, 0.0]]])
    x = torch.tensor([[[[1.0, -1], [1, 1]]], [[[-1.0, -1], [-1, 1]]]])
    log_p = -bernoulli_nll_per_image(b.expand(2, -1, -1, -1), (x + 1) / 2)
    elbo, iwae = vae_bounds(_Prior(), _Constant(b), x, k=7, chunk=3)
    assert_close(elbo, log_p)
    assert_close(iwae, log_p)


def test_iwae_is_at_least_the_elbo_and_k1_is_the_elbo_in_expectation():
    torch.manual_seed(0)
    encoder, decoder = build_vae("mlp", 4, (1, 6, 6), 16)
    x = (torch.rand(5, 1, 6, 6) > 0.5).float() * 2 - 1
    with torch.no_grad():
        g = torch.Generator().manual_seed(0)
        log_w, _ = vae_log_weights(encoder, decoder, x, k=4000, chunk=1000, generator=g)
        elbo, iwae = vae_bounds(encoder, decoder, x, k=4000, chunk=1000, generator=torch.Generator().manual_seed(0))
    assert_close(iwae, iwae_from_log_weights(log_w))  # chunking does not change the bound
    # log-mean-exp >= mean (Jensen), for the very same samples, and the analytic ELBO is the mean in expectation
    assert bool((iwae >= log_w.mean(0)).all()) and bool((iwae > elbo).all())
    se = log_w.std(0) / math.sqrt(4000)
    assert bool(((log_w.mean(0) - elbo).abs() < 4 * se).all())  # IWAE with k = 1, averaged: the ELBO
    # a few samples already tighten the bound: IWAE-10, averaged over 400 disjoint groups, is above the ELBO
    k10 = iwae_from_log_weights(log_w.view(400, 10, 5)).mean(0)
    assert bool((elbo < k10).all() and (k10 <= iwae + 1e-6).all())
