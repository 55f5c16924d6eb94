"""Discriminator rejection sampling (gankit.sampling.rejection) against closed forms."""

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.sampling.rejection import drs_accept_prob, rejection_sample


def test_accept_prob_is_the_density_ratio_far_below_the_max():
    """With gamma = 0 and l << l_M, sigmoid(F) = exp(l - l_M) (up to O(exp(l - l_M)^2))."""
    logits = torch.tensor([-10.0, -8.0, -6.0])
    assert_close(drs_accept_prob(logits, 0.0), torch.exp(logits), rtol=5e-3, atol=0)


def test_accept_prob_at_the_max_and_gamma_shift():
    # l = l_M: F = -log(1 - exp(-eps)) ~ log(1/eps), accepted with probability ~ 1
    assert drs_accept_prob(torch.tensor([2.0]), 2.0).item() == pytest.approx(1.0, abs=1e-5)
    # above the max: clamped to it
    assert drs_accept_prob(torch.tensor([5.0]), 2.0).item() == pytest.approx(1.0, abs=1e-5)
    # gamma shifts F: sigmoid(F - gamma)
    logits = torch.tensor([-1.0])
    f = -1.0 - math.log1p(-math.exp(-1.0 - 1e-6))
    assert_close(drs_accept_prob(logits, 0.0, gamma=0.7), torch.sigmoid(torch.tensor([f - 0.7])))


class _ShiftGenerator(nn.Module):
    def forward(self, z):
        return z  # p_g = N(0, 1)


class _ExactRatio(nn.Module):
    """logit = log N(x; 1, 1) - log N(x; 0, 1) = x - 1/2: the optimal D for p_data = N(1, 1) vs p_g = N(0, 1)."""

    def forward(self, x):
        return x[:, 0] - 0.5


class _FakeGAN:
    def __init__(self):
        self.G, self.D, self.loss, self.z_dim, self.device = _ShiftGenerator(), _ExactRatio(), LOSSES["non-saturating"], 1, torch.device("cpu")

    def sample(self, z):
        return self.G(z)


def test_rejection_with_the_exact_ratio_draws_from_p_data():
    """G = N(0, 1), D's logit the exact log-ratio to N(1, 1): the kept samples are N(1, 1)."""
    x, rate = rejection_sample(_FakeGAN(), 20000, seed=0, burn_in=20000)
    assert x.mean().item() == pytest.approx(1.0, abs=0.05)
    assert x.std().item() == pytest.approx(1.0, abs=0.05)
    assert 0.0 < rate < 1.0


def test_rejection_refuses_losses_without_a_density_ratio():
    gan = _FakeGAN()
    gan.loss = LOSSES["hinge"]
    with pytest.raises(UserError, match="gan.loss"):
        rejection_sample(gan, 10)
