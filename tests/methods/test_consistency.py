"""Consistency regularisation (Zhang, Zhang, Odena & Lee 2020): lambda E||D(x) - D(T(x))||^2 on real images.

For a linear D(x) = <w, x> + b the term is lambda mean_n <w, x_n - T(x_n)>^2, with T written out here by hand
from the same random draws: a shift of each image by (th, tw) pixels (zero fill), then a left-right flip.
"""

import csv
import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

import gankit
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.losses.penalties import consistency_penalty, cr_augment
from gankit.methods.tricks import Consistency, Tricks


class LinearD(nn.Module):
    """D(x) = <w, x> + b, one output per image."""

    def __init__(self, shape: tuple[int, ...], dtype=torch.float32):
        super().__init__()
        self.w = nn.Parameter(torch.randn(*shape, generator=torch.Generator().manual_seed(3), dtype=dtype))
        self.b = nn.Parameter(torch.tensor(0.7, dtype=dtype))

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1) + self.b


def shift_and_flip_by_hand(x: torch.Tensor, th: torch.Tensor, tw: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """out[n, :, i, j] = x[n, :, i + th_n, j + tw_n] where that pixel exists, else 0; then flipped if flip_n."""
    n, _, h, w = x.shape
    out = torch.zeros_like(x)
    for k in range(n):
        for i in range(h):
            for j in range(w):
                si, sj = i + int(th[k]), j + int(tw[k])
                if 0 <= si < h and 0 <= sj < w:
                    out[k, :, i, j] = x[k, :, si, sj]
        if flip[k]:
            out[k] = out[k].flip(-1)
    return out


def test_term_equals_a_hand_computation_for_a_linear_d():
    n, shape = 6, (2, 16, 16)  # shifts of up to 16 / 8 = 2 px
    x = torch.randn(n, *shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    D = LinearD(shape, torch.float64)  # float64: the gradient below sums 512 products
    torch.manual_seed(5)
    total, stats = Tricks([Consistency(10.0)]).d_regulariser(D, x, torch.zeros_like(x))
    torch.manual_seed(5)  # the same draws, in cr_augment's order: translation's offsets, then the flips
    th, tw = torch.randint(-2, 3, (n, 1, 1)), torch.randint(-2, 3, (n, 1, 1))
    flip = torch.rand(n) < 0.5
    assert flip.any() and not flip.all() and th.abs().sum() > 0  # the seed exercises both flips and shifts
    tx = shift_and_flip_by_hand(x, th.view(-1), tw.view(-1), flip)
    want = ((x - tx) * D.w.detach()).flatten(1).sum(1).pow(2).mean()  # the bias cancels
    assert_close(stats["consistency"], want)
    assert_close(total, 10.0 * want)
    # d/dw mean <w, d_n>^2 = 2 mean <w, d_n> d_n: no stop-gradient on either side (the paper's Algorithm 1)
    total.backward()
    d = x - tx
    grad = 10.0 * 2 * ((d * D.w.detach()).flatten(1).sum(1).view(-1, 1, 1, 1) * d).mean(0)
    assert_close(D.w.grad, grad)
    assert_close(D.b.grad, torch.tensor(0.0, dtype=torch.float64))


def test_augmentation_without_shift_is_a_flip_of_about_half_the_images():
    """With no room to shift, T mirrors the images whose U[0, 1) flip draw is below 1/2 and keeps the rest."""
    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float32).view(2, 1, 8, 8)
    torch.manual_seed(0)
    y = cr_augment(x, ratio=0.0)  # no shift: only the flips remain
    torch.manual_seed(0)
    torch.randint(0, 1, (2, 1, 1)), torch.randint(0, 1, (2, 1, 1))
    flip = torch.rand(2) < 0.5
    for k in range(2):
        assert torch.equal(y[k], x[k].flip(-1) if flip[k] else x[k])


def test_term_is_zero_for_a_d_constant_in_x():
    class ConstD(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Parameter(torch.tensor(1.5))

        def forward(self, x):
            return self.b.expand(x.shape[0])

    D, x = ConstD(), torch.randn(5, 1, 8, 8)
    total, stats = Tricks([Consistency(10.0)]).d_regulariser(D, x, x)
    assert_close(stats["consistency"], torch.tensor(0.0))
    total.backward()
    assert_close(D.b.grad, torch.tensor(0.0))


def test_it_calls_d_as_given_so_a_ddp_wrapper_sees_both_passes():
    class Counting(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner, self.calls = inner, 0

        def forward(self, x):
            self.calls += 1
            return self.inner(x)

    D = Counting(LinearD((1, 8, 8)))
    consistency_penalty(D, torch.randn(3, 1, 8, 8))
    assert D.calls == 2  # D(x) and D(T(x))


def test_non_image_data_is_a_user_error_naming_the_key():
    D = nn.Linear(2, 1)
    with pytest.raises(UserError, match=r"^gan\.consistency: needs images \(N x C x H x W\); .* shape \(2,\)$"):
        Tricks([Consistency(10.0)]).d_regulariser(D, torch.randn(4, 2), torch.randn(4, 2))


def test_off_by_default_and_on_by_its_field():
    G, D, cpu = nn.Linear(2, 2), nn.Linear(2, 1), torch.device("cpu")
    cfg = gankit.load_config(None, [])
    assert cfg.gan.consistency == 0
    assert Tricks.from_config(cfg, LOSSES[cfg.gan.loss], G, D, cpu).active == {}
    on = Tricks.from_config(gankit.load_config(None, ["gan.consistency=10"]), LOSSES[cfg.gan.loss], G, D, cpu)
    assert list(on.active) == ["consistency"] and on.active["consistency"].weight == 10.0


def test_trains_a_few_steps_and_logs_the_term(tmp_path, tiny_overrides):
    cfg = gankit.load_config(None, tiny_overrides + ["train.steps=4", "gan.consistency=10"])
    result = gankit.train(cfg, tmp_path / "run", progress=False)
    assert result.step == 4
    with open(tmp_path / "run" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["2", "4"]
    values = [float(r["consistency"]) for r in rows]
    assert all(math.isfinite(v) and v > 0 for v in values)  # a random D is not invariant to shifts and flips
