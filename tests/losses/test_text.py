"""The matching-aware loss of GAN-CLS (gankit.losses.text) against hand values, and the mismatching captions.

-L_D = softplus(-l_r) + (softplus(l_w) + softplus(l_f)) / 2 (means over the batch) is
-[log D(real, right) + (log(1 - D(real, wrong)) + log(1 - D(fake, right))) / 2] with D = sigmoid(l).
"""

import math

import torch
from torch.testing import assert_close

from gankit.losses.text import auxiliary_class, d_matching_aware, g_matching_aware, mismatched


def test_at_zero_logits():
    z = torch.zeros(5)
    assert_close(d_matching_aware(z, z, z), torch.tensor(2 * math.log(2)))
    assert_close(g_matching_aware(z), torch.tensor(math.log(2)))


def test_hand_values():
    # l_r = 1, l_w = 2, l_f = -1: softplus(-1) + (softplus(2) + softplus(-1)) / 2
    #   = 0.31326169 + (2.12692801 + 0.31326169) / 2 = 1.53335654
    r, w, f = torch.tensor([1.0]), torch.tensor([2.0]), torch.tensor([-1.0])
    assert_close(d_matching_aware(r, w, f), torch.tensor(1.53335654))
    p = torch.sigmoid  # the same from probabilities, as Algorithm 1 writes it
    assert_close(d_matching_aware(r, w, f), -(p(r).log() + ((1 - p(w)).log() + (1 - p(f)).log()) / 2)[0])
    assert_close(g_matching_aware(f), torch.tensor(1.31326169))  # softplus(1) = -log sigmoid(-1)


def test_the_three_terms_are_weighted_one_half_half():
    big = torch.tensor([30.0])  # softplus(-30) ~ 0, softplus(30) ~ 30
    assert_close(d_matching_aware(big, -big, -big), torch.tensor(0.0), atol=1e-6, rtol=0)
    assert_close(d_matching_aware(big, big, -big), torch.tensor(15.0), atol=1e-5, rtol=0)  # a wrong pair called real
    assert_close(d_matching_aware(big, -big, big), torch.tensor(15.0), atol=1e-5, rtol=0)  # a fake called real
    assert_close(d_matching_aware(-big, -big, -big), torch.tensor(30.0), atol=1e-5, rtol=0)  # a real called fake


def test_mismatched_captions_come_from_another_class():
    tokens = torch.arange(6)[:, None].repeat(1, 3)  # caption i is [i, i, i]
    y = torch.tensor([0, 0, 1, 1, 1, 2])
    wrong = mismatched(tokens, y)
    assert wrong[:, 0].tolist() == [2, 2, 5, 5, 5, 0]  # the next item of another class, cyclically
    same = mismatched(tokens, torch.zeros(6, dtype=torch.long))  # one class only: rolled by one
    assert same[:, 0].tolist() == [1, 2, 3, 4, 5, 0]


def test_auxiliary_class_by_hand():
    assert_close(auxiliary_class(torch.zeros(4, 10), torch.arange(4)), torch.tensor(math.log(10)))  # log K at zero
    # logits (2, 0, 0): class 0 costs -log(e^2 / (e^2 + 2)) = log(1 + 2 e^-2) = 0.2395447, class 1 costs 2 more;
    # logits (0, 0, 0) cost log 3 = 1.0986123 for any class
    c = torch.tensor([[2.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    assert_close(auxiliary_class(c, torch.tensor([0, 1, 2])), torch.tensor((0.2395447 + 2.2395447 + 1.0986123) / 3))
    assert_close(auxiliary_class(c, torch.tensor([0, 0, 1])), torch.tensor((2 * 0.2395447 + 1.0986123) / 3))
