"""Latent interpolation and arithmetic (gankit.sampling.latent) against closed forms."""

import math

import pytest
import torch

from gankit.errors import UserError
from gankit.sampling.latent import interpolation_latents, latent_arithmetic, lerp, slerp


def test_slerp_of_orthogonal_unit_vectors_follows_the_quarter_circle():
    e0, e1 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    t = torch.tensor([[0.0], [1 / 3], [0.5], [1.0]])
    path = slerp(e0, e1, t)
    angles = torch.tensor([0.0, math.pi / 6, math.pi / 4, math.pi / 2])
    torch.testing.assert_close(path, torch.stack([angles.cos(), angles.sin(), torch.zeros(4)], 1))


def test_slerp_keeps_the_norm_where_lerp_shrinks_it():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(100, generator=g), torch.randn(100, generator=g)
    z1 = z1 * z0.norm() / z1.norm()  # equal norms
    t = torch.linspace(0, 1, 11).view(-1, 1)
    torch.testing.assert_close(slerp(z0, z1, t).norm(dim=1), z0.norm().expand(11), rtol=1e-5, atol=1e-5)
    # two nearly orthogonal draws: the straight line's midpoint has about 1 / sqrt(2) of the norm
    assert lerp(z0, z1, 0.5).norm() / z0.norm() == pytest.approx(math.sqrt(0.5), abs=0.1)


def test_slerp_of_parallel_vectors_is_the_straight_line_without_nans():
    z = torch.tensor([1.0, 2.0])
    out = slerp(z, 3 * z, torch.tensor([[0.0], [0.5], [1.0]]))
    torch.testing.assert_close(out, torch.stack([z, 2 * z, 3 * z]))


@pytest.mark.parametrize("mode", ["slerp", "lerp"])
def test_interpolation_rows_run_from_one_draw_to_another(mode):
    z = interpolation_latents(3, 5, 4, mode=mode, seed=7).view(3, 5, 4)
    ends = torch.randn(2, 3, 1, 4, generator=torch.Generator().manual_seed(7))
    torch.testing.assert_close(z[:, 0], ends[0, :, 0])
    torch.testing.assert_close(z[:, -1], ends[1, :, 0], rtol=1e-5, atol=1e-5)
    if mode == "lerp":  # equal steps along the line
        steps = z.diff(dim=1)
        torch.testing.assert_close(steps, steps[:, :1].expand_as(steps), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("rows, steps, mode", [(0, 5, "slerp"), (2, 1, "slerp"), (2, 5, "cubic")])
def test_bad_interpolation_arguments_are_user_errors(rows, steps, mode):
    with pytest.raises(UserError):
        interpolation_latents(rows, steps, 4, mode=mode)


def test_arithmetic_adds_the_difference_of_group_means():
    a = torch.tensor([[1.0, 0.0], [3.0, 0.0]])  # mean (2, 0)
    b = torch.tensor([[0.0, 1.0]])              # mean (0, 1)
    c = torch.tensor([[1.0, 1.0], [1.0, 3.0]])  # mean (1, 2)
    torch.testing.assert_close(latent_arithmetic(a, b, c), torch.tensor([3.0, 1.0]))
    with pytest.raises(UserError, match="group b"):
        latent_arithmetic(a, torch.zeros(0, 2), c)
