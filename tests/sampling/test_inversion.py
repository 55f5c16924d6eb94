"""Inversion and inpainting (gankit.sampling.inversion) on generators whose answer is known."""

import pytest
import torch
from torch import nn

from gankit.errors import UserError
from gankit.sampling.inversion import inpaint, invert, make_mask

A = torch.randn(12, 3, generator=torch.Generator().manual_seed(0))


def linear_g(z: torch.Tensor) -> torch.Tensor:
    return z @ A.T


def test_inverting_a_linear_generator_recovers_the_latent():
    z_true = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    inv = invert(linear_g, linear_g(z_true), 3, steps=800, lr=0.05, prior=0.0, restarts=1)
    torch.testing.assert_close(inv.z, z_true, atol=1e-3, rtol=1e-3)
    assert inv.known_mse.max() < 1e-6


def test_inpainting_a_linear_generator_fills_the_hidden_pixels_exactly():
    z_true = torch.randn(4, 3, generator=torch.Generator().manual_seed(2))
    x = linear_g(z_true)
    mask = torch.ones(12)
    mask[[0, 5, 6, 11]] = 0  # 8 known pixels still determine the 3 latent coordinates
    corrupted = x * mask + 9.0 * (1 - mask)  # what sits in the hole must not matter
    filled, inv = inpaint(linear_g, corrupted, mask, 3, steps=800, lr=0.05, prior=0.0, restarts=1)
    torch.testing.assert_close(filled, x, atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(filled[:, mask == 1], corrupted[:, mask == 1])  # known pixels are kept as given


def test_more_restarts_never_end_worse():
    def wavy(z):  # many local minima
        return torch.cat([torch.sin(3 * z), torch.cos(2 * z)], 1)

    x = wavy(torch.full((6, 2), 1.3))
    one = invert(wavy, x, 2, steps=100, restarts=1, seed=4)
    five = invert(wavy, x, 2, steps=100, restarts=5, seed=4)  # its first start is the single run's start
    assert (five.loss <= one.loss + 1e-7).all()


def test_masks_hide_what_their_names_say():
    center = make_mask("center", (1, 28, 28))
    assert center.shape == (1, 1, 28, 28) and center.sum() == 28 * 28 - 14 * 14 and center[0, 0, 14, 14] == 0
    left = make_mask("left", (3, 8, 8))
    assert left[..., :4].sum() == 0 and left[..., 4:].min() == 1
    assert make_mask("none", (1, 4, 4)).min() == 1
    assert make_mask("none", (2,)).shape == (1, 2)  # toy points can be inverted, not masked
    hidden = 1 - make_mask("random:0.3", (1, 64, 64), seed=1).mean()
    assert hidden.item() == pytest.approx(0.3, abs=0.03)


@pytest.mark.parametrize("kind", ["middle", "random:1.5", "random:x"])
def test_unknown_masks_are_user_errors(kind):
    with pytest.raises(UserError, match="mask"):
        make_mask(kind, (1, 8, 8))


def test_image_masks_on_points_are_user_errors():
    with pytest.raises(UserError, match="for images"):
        make_mask("center", (2,))


def test_bad_budgets_are_user_errors():
    with pytest.raises(UserError, match="steps 0"):
        invert(linear_g, torch.zeros(1, 12), 3, steps=0)


def test_only_the_latent_is_optimised():
    G = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 12))
    before = [q.detach().clone() for q in G.parameters()]
    invert(G, torch.randn(4, 12), 3, steps=20)
    assert all(q.grad is None for q in G.parameters())
    assert all(torch.equal(a, q) for a, q in zip(before, G.parameters()))
