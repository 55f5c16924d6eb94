"""AC-GAN's class terms (gankit.losses.conditional) against hand values."""

import math

import torch
from torch.testing import assert_close

from gankit.losses.conditional import d_class_loss, g_class_loss


def test_class_terms_at_zero_logits_are_log_k():
    for k in (2, 10):
        zeros, y = torch.zeros(4, k), torch.tensor([0, 1, 1, 0])
        assert_close(d_class_loss(zeros, y, zeros, y), torch.tensor(2 * math.log(k)))  # real + fake
        assert_close(g_class_loss(zeros, y), torch.tensor(math.log(k)))


def test_class_terms_on_a_hand_case():
    # logits (log 3, 0): P(class 0) = 3/4, so CE = log(4/3) for label 0 and log 4 for label 1
    logits = torch.tensor([[math.log(3.0), 0.0], [math.log(3.0), 0.0]])
    assert_close(g_class_loss(logits, torch.tensor([0, 1])), torch.tensor((math.log(4 / 3) + math.log(4)) / 2))
    real, y_real = logits[:1], torch.tensor([0])
    fake, y_fake = logits[1:], torch.tensor([1])
    assert_close(d_class_loss(real, y_real, fake, y_fake), torch.tensor(math.log(4 / 3) + math.log(4)))
