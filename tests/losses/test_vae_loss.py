"""The VAE's loss terms against closed forms."""

import math

import torch
from torch.testing import assert_close

from gankit.losses.vae import bernoulli_nll, gaussian_nll, kl_normal, reparameterise


def test_kl_closed_form():
    """mu = (1, 2), var = (1, 4): KL = -1/2 [(1 + 0 - 1 - 1) + (1 + log 4 - 4 - 4)] = 4 - log 2."""
    mu, logvar = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, math.log(4.0)]])
    assert_close(kl_normal(mu, logvar), torch.tensor(4.0 - math.log(2.0)))
    assert_close(kl_normal(torch.zeros(3, 5), torch.zeros(3, 5)), torch.tensor(0.0))


def test_bernoulli_nll():
    """At logits 0 each pixel costs log 2 whatever x; a pixel x = 1 (p = 1) at logit a costs softplus(-a)."""
    x = torch.rand(2, 1, 4, 4) * 2 - 1
    assert_close(bernoulli_nll(torch.zeros_like(x), x), torch.tensor(16 * math.log(2.0)))
    assert_close(bernoulli_nll(torch.full((1, 1, 1, 2), 2.0), torch.ones(1, 1, 1, 2)), torch.tensor(2 * math.log1p(math.exp(-2.0))))


def test_gaussian_nll():
    x, mean, s = torch.tensor([[1.0, -1.0]]), torch.tensor([[0.0, 0.0]]), 0.5
    want = (1 + 1) / (2 * s**2) + 2 * math.log(s * math.sqrt(2 * math.pi))
    assert_close(gaussian_nll(mean, x, s), torch.tensor(want))


def test_reparameterise():
    mu, logvar = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.0, math.log(9.0)]])
    torch.manual_seed(3)
    z = reparameterise(mu, logvar)
    torch.manual_seed(3)
    eps = torch.randn(1, 2)
    assert_close(z, mu + torch.tensor([[1.0, 3.0]]) * eps)
