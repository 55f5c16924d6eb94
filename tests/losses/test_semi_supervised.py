"""The semi-supervised GAN's losses (gankit.losses.semi_supervised) against hand values."""

import math

import torch
from torch.testing import assert_close

from gankit.losses.semi_supervised import (
    conditional_entropy,
    d_unsupervised_loss,
    feature_matching_loss,
    real_logit,
    supervised_loss,
)


def test_real_logit_is_log_z():
    # Z = e^0 + e^log(3) = 4, so D(x) = Z / (Z + 1) = 4/5
    logits = torch.tensor([[0.0, math.log(3.0)]])
    assert_close(real_logit(logits), torch.tensor([math.log(4.0)]))
    assert_close(torch.sigmoid(real_logit(logits)), torch.tensor([0.8]))


def test_unsupervised_d_loss_at_zero_logits():
    for k in (2, 10):
        zeros = torch.zeros(5, k)  # Z = K: D = K/(K+1) on both batches
        expected = math.log((k + 1) / k) + math.log(k + 1)
        assert_close(d_unsupervised_loss(zeros, zeros), torch.tensor(expected))


def test_unsupervised_d_loss_on_a_hand_case():
    # unlabelled: Z = 4 -> -log D = log(5/4); fake: Z = 1/2 (two logits log(1/4)) -> -log(1 - D) = log(3/2)
    unl = torch.tensor([[0.0, math.log(3.0)]])
    fake = torch.full((1, 2), math.log(0.25))
    assert_close(d_unsupervised_loss(unl, fake), torch.tensor(math.log(5 / 4) + math.log(3 / 2)))


def test_unsupervised_d_loss_is_stable_for_large_logits():
    big = torch.full((3, 10), 200.0)  # Z = 10 e^200 would overflow exp in float32
    loss = d_unsupervised_loss(big, -big)  # a perfect D: both terms ~0
    assert torch.isfinite(loss)
    assert_close(loss, torch.tensor(0.0), atol=1e-6, rtol=0)
    # The worst D: (200 - log 10) + (200 + log 10), linear in the logits as softplus is far from 0.
    assert_close(d_unsupervised_loss(-big, big), torch.tensor(400.0))


def test_supervised_loss_is_the_cross_entropy_of_the_k_logits():
    assert_close(supervised_loss(torch.zeros(4, 10), torch.tensor([0, 3, 9, 1])), torch.tensor(math.log(10)))
    logits = torch.tensor([[math.log(3.0), 0.0]])  # p(class 0) = 3/4, whatever the implicit fake class does
    assert_close(supervised_loss(logits, torch.tensor([1])), torch.tensor(math.log(4.0)))


def test_feature_matching():
    f = torch.randn(8, 5)
    assert_close(feature_matching_loss(f, f[torch.randperm(8)]), torch.tensor(0.0), atol=1e-6, rtol=0)  # same mean
    real = torch.tensor([[1.0, 2.0], [3.0, 2.0]])  # mean (2, 2)
    fake = torch.tensor([[0.0, 0.0], [0.0, 2.0], [0.0, 1.0]])  # mean (0, 1)
    assert_close(feature_matching_loss(real, fake), torch.tensor(4.0 + 1.0))


def test_conditional_entropy():
    assert_close(conditional_entropy(torch.zeros(3, 10)), torch.tensor(math.log(10)))  # uniform: log K
    sure = torch.tensor([[100.0, 0.0, 0.0]])  # one class certain: 0
    assert_close(conditional_entropy(sure), torch.tensor(0.0), atol=1e-6, rtol=0)
    half = torch.tensor([[0.0, 0.0, -1e4]])  # two classes at 1/2 each: log 2, whatever the batch's other rows
    assert_close(conditional_entropy(torch.cat([half, sure])), torch.tensor(math.log(2) / 2))
