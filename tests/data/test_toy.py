"""Toy distributions: the PacGAN geometry, densities that integrate to 1, and the dataset interface."""

import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from gankit.config import load_config
from gankit.data import load_dataset
from gankit.data.toy import TOYS, get_toy
from gankit.errors import UserError


def test_ring_is_pacgans_2d_ring():
    ring = get_toy("ring")
    angles = 2 * np.pi * np.arange(8) / 8
    assert_close(torch.as_tensor(ring.means), torch.as_tensor(np.stack([np.cos(angles), np.sin(angles)], 1)))
    assert_close(torch.as_tensor(ring.stds), torch.full((8,), 0.01, dtype=torch.float64))
    assert_close(torch.as_tensor(ring.weights), torch.full((8,), 1 / 8, dtype=torch.float64))


def test_grid_is_pacgans_2d_grid():
    grid = get_toy("grid")
    assert sorted(map(tuple, grid.means.tolist())) == [(float(i), float(j)) for i in range(-4, 5, 2) for j in range(-4, 5, 2)]
    assert_close(torch.as_tensor(grid.stds), torch.full((25,), 0.05, dtype=torch.float64))
    assert_close(torch.as_tensor(grid.weights), torch.full((25,), 1 / 25, dtype=torch.float64))


def test_density_at_a_ring_mode_is_the_closed_form():
    # Other modes are 0.77 apart = 77 std: their contribution is exp(-2900), i.e. nothing.
    ring = get_toy("ring")
    assert_close(ring.density(ring.means[:1]), torch.tensor([1 / 8 / (2 * math.pi * 1e-4)], dtype=torch.float64))


@pytest.mark.parametrize("name", ["mog-1d", "bimodal-1d"])
def test_1d_density_integrates_to_one_by_quadrature(name):
    xs = np.linspace(-15, 15, 30001)
    integral = np.trapezoid(get_toy(name).density(xs).numpy(), xs)
    assert_close(integral, 1.0, atol=1e-8, rtol=0)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_2d_mixture_density_integrates_to_one_by_monte_carlo(name):
    # Uniform points in a square of half-width 6 std around each mode (the squares are disjoint and hold
    # all but ~1e-8 of the mass): integral = area * mean density. Relative s.e. ~ sqrt(10.5 / n) = 0.003.
    toy = get_toy(name)
    g = torch.Generator().manual_seed(0)
    n_per = 150_000 // toy.num_modes
    half = 6 * torch.as_tensor(toy.stds)
    u = torch.rand(toy.num_modes, n_per, 2, generator=g, dtype=torch.float64) * 2 - 1
    x = torch.as_tensor(toy.means)[:, None, :] + half[:, None, None] * u
    integral = sum(float(toy.density(x[k]).mean() * (2 * half[k]) ** 2) for k in range(toy.num_modes))
    assert_close(integral, 1.0, atol=0.015, rtol=0)


@pytest.mark.parametrize("name,box,se", [("moons", (-1.5, 2.5, -1.0, 1.5), 0.013), ("spiral", (-2.5, 2.5, -2.5, 2.5), 0.02)])
def test_curve_density_integrates_to_one_by_monte_carlo(name, box, se):
    # Uniform Monte Carlo over a box holding the curve; se = sqrt(area * int p^2 / n), p^2 integrated by hand
    # for a blurred curve (int p^2 ~ 1 / (length * 2 sqrt(pi) * std)). Tolerance: 4 standard errors.
    toy = get_toy(name)
    x0, x1, y0, y1 = box
    u = torch.rand(50_000, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    x = torch.stack([x0 + (x1 - x0) * u[:, 0], y0 + (y1 - y0) * u[:, 1]], 1)
    integral = float(toy.density(x).mean()) * (x1 - x0) * (y1 - y0)
    assert_close(integral, 1.0, atol=4 * se, rtol=0)


def test_samples_follow_the_mixture():
    ring = get_toy("ring")
    x = ring.sample(8000, seed=3)
    k = torch.cdist(x.double(), torch.as_tensor(ring.means)).argmin(1)
    counts = torch.bincount(k, minlength=8).double()
    assert_close(counts / 8000, torch.full((8,), 1 / 8, dtype=torch.float64), atol=0.02, rtol=0)  # 5 s.e.
    spread = (x.double() - torch.as_tensor(ring.means)[k]).std()
    assert_close(float(spread), 0.01, atol=5e-4, rtol=0)


def test_load_dataset_gives_unscaled_points():
    train, test = load_dataset("ring", split="train"), load_dataset("ring", split="test")
    assert train.x.shape == (100_000, 2) and test.x.shape == (10_000, 2)
    assert train.x.dtype == torch.float32 and train.shape == (2,)
    assert_close(train.x.norm(dim=1).mean(), torch.tensor(1.0), atol=1e-3, rtol=0)  # radius 1, not rescaled
    assert not torch.equal(train.x[:100], test.x[:100])
    assert torch.equal(load_dataset("ring").x, train.x)  # fixed: a dataset, not fresh noise
    assert load_dataset("mog-1d").x.shape == (100_000, 1)


def test_every_toy_is_a_dataset_name():
    for name in TOYS:
        assert load_config(None, [f"data.name={name}", "model.arch=mlp"]).data.name == name
        assert load_dataset(name, split="test").x.ndim == 2


def test_toys_refuse_image_options():
    with pytest.raises(UserError, match="data.img_size"):
        load_dataset("ring", img_size=32)
    with pytest.raises(UserError, match="unknown toy"):
        get_toy("donut")
