"""Gradient penalties on functions with a known input-gradient norm.

D(x) = w.x has grad_x D = w for every x, so ||grad|| = |w| = 5 for w = (3, 4):
unit penalty (WGAN-GP, DRAGAN) (5 - 1)^2 = 16 and R1 = 25 / 2, at any points. The registry's entries
all take (D, x_real, x_fake) and give the same numbers as the functions they name, draw for draw.
"""

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gankit.losses.penalties import (
    PENALTIES, dragan, dragan_points, interpolates, r1, r1_penalty, register_penalty, unit_gradient_penalty, wgan_gp,
)


def linear_d() -> nn.Module:
    D = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[3.0, 4.0]]))
    return D


def test_penalties_of_a_linear_critic():
    D = linear_d()
    x_real, x_fake = torch.randn(8, 2), torch.randn(8, 2)
    assert_close(wgan_gp(D, x_real, x_fake), torch.tensor(16.0))
    assert_close(dragan(D, x_real), torch.tensor(16.0))
    assert_close(r1(D, x_real), torch.tensor(12.5))


def test_penalty_is_differentiable_in_d_parameters():
    """d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|, and d/dw |w|^2 / 2 = w: needs the double backward."""
    D = linear_d()
    unit_gradient_penalty(D, torch.randn(4, 2)).backward()
    assert_close(D.weight.grad, 2 * (5 - 1) * torch.tensor([[3.0, 4.0]]) / 5)
    D.weight.grad = None
    r1_penalty(D, torch.randn(4, 2)).backward()
    assert_close(D.weight.grad, torch.tensor([[3.0, 4.0]]))


def test_penalty_of_a_quadratic():
    """D(x) = |x|^2 / 2 has grad x: the penalties see each point's own norm."""

    class Quad(nn.Module):
        def forward(self, x):
            return 0.5 * x.flatten(1).pow(2).sum(1)

    x = torch.tensor([[3.0, 4.0], [0.0, 2.0]])
    assert_close(unit_gradient_penalty(Quad(), x), torch.tensor(((5 - 1) ** 2 + (2 - 1) ** 2) / 2))
    assert_close(r1_penalty(Quad(), x), torch.tensor((25 + 4) / 2 / 2))


def test_interpolates_lie_on_the_segments():
    g = torch.Generator().manual_seed(0)
    x_real, x_fake = torch.ones(5, 1, 3, 3), torch.zeros(5, 1, 3, 3)
    pts = interpolates(x_real, x_fake, generator=g)
    eps = torch.rand(5, 1, 1, 1, generator=torch.Generator().manual_seed(0))
    assert_close(pts, eps.expand(5, 1, 3, 3))  # eps * 1 + (1 - eps) * 0, one eps per sample


def test_dragan_points_perturb_by_half_the_std():
    x = torch.tensor([[0.0, 2.0], [2.0, 0.0]])  # std over all elements: sqrt(4/3)
    u = torch.rand(2, 2, generator=torch.Generator().manual_seed(1))
    assert_close(dragan_points(x, generator=torch.Generator().manual_seed(1)), x + 0.5 * x.std() * u)


def test_registry_holds_the_three_penalties_with_one_signature():
    D = linear_d()
    x_real, x_fake = torch.randn(8, 2), torch.randn(8, 2)
    assert list(PENALTIES) == ["wgan-gp", "dragan", "r1"]
    want = {"wgan-gp": 16.0, "dragan": 16.0, "r1": 12.5}
    for name, penalty in PENALTIES.items():
        assert_close(penalty(D, x_real, x_fake), torch.tensor(want[name]))


@pytest.mark.parametrize("name", ["wgan-gp", "dragan", "r1"])
def test_registry_entries_match_the_formulas_draw_for_draw(name):
    """The same RNG state gives bit-identical penalties (the points are random for WGAN-GP and DRAGAN)."""

    class Quad(nn.Module):  # a D whose gradient norm differs from point to point
        def forward(self, x):
            return 0.5 * x.flatten(1).pow(2).sum(1)

    x_real, x_fake = torch.randn(6, 1, 3, 3), torch.randn(6, 1, 3, 3)
    by_hand = {
        "wgan-gp": lambda: unit_gradient_penalty(Quad(), interpolates(x_real, x_fake)),
        "dragan": lambda: unit_gradient_penalty(Quad(), dragan_points(x_real)),
        "r1": lambda: r1_penalty(Quad(), x_real),
    }
    torch.manual_seed(7)
    got = PENALTIES[name](Quad(), x_real, x_fake)
    torch.manual_seed(7)
    assert torch.equal(got, by_hand[name]())


def test_register_penalty_adds_a_named_entry(monkeypatch):
    monkeypatch.setitem(PENALTIES, "_probe", None)  # restored (removed) after the test

    @register_penalty("_probe")
    def zero(D, x_real, x_fake):
        return torch.zeros(())

    assert PENALTIES["_probe"] is zero
