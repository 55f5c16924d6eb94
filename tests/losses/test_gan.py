import math

import torch
from torch.testing import assert_close

from gankit.losses import LOSSES, d_bce, g_nonsaturating, g_saturating


def test_values_at_zero_logits():
    zero = torch.zeros(5)
    assert_close(d_bce(zero, zero), torch.tensor(2 * math.log(2)))
    assert_close(g_saturating(zero), torch.tensor(-math.log(2)))
    assert_close(g_nonsaturating(zero), torch.tensor(math.log(2)))


def test_hand_computed_values():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    # J_D = -mean log D(x) - mean log(1 - D(G(z)))
    j_d = -(math.log(sig(2.0)) + math.log(sig(-1.0))) / 2 - (math.log(1 - sig(0.5)) + math.log(1 - sig(-3.0))) / 2
    assert_close(d_bce(real, fake), torch.tensor(j_d))
    assert_close(g_saturating(fake), torch.tensor((math.log(1 - sig(0.5)) + math.log(1 - sig(-3.0))) / 2))
    assert_close(g_nonsaturating(fake), torch.tensor(-(math.log(sig(0.5)) + math.log(sig(-3.0))) / 2))


def test_stable_at_extreme_logits():
    big = torch.tensor([100.0, -100.0], requires_grad=True)
    for value in (d_bce(big, big), g_saturating(big), g_nonsaturating(big)):
        value.backward()
        assert torch.isfinite(value) and torch.isfinite(big.grad).all()
        big.grad = None


def test_generator_losses_fall_as_fakes_look_real():
    for g in (g_saturating, g_nonsaturating):
        logits = torch.tensor([-2.0, 0.0, 1.0], requires_grad=True)
        g(logits).backward()
        assert (logits.grad < 0).all()  # raising D's logit on fakes lowers G's loss


def test_saturating_loss_has_vanishing_gradient_when_d_wins():
    # D(G(z)) = sigmoid(-10) ~ 4.5e-5: the minimax gradient is tiny, the non-saturating one is not.
    grads = {}
    for name in ("minimax", "non-saturating"):
        logits = torch.tensor([-10.0], requires_grad=True)
        LOSSES[name].g(logits).backward()
        grads[name] = logits.grad.abs().item()
    assert_close(grads["minimax"], 1 / (1 + math.exp(10)), rtol=1e-4, atol=0)
    assert_close(grads["non-saturating"], 1 / (1 + math.exp(-10)), rtol=1e-4, atol=0)
