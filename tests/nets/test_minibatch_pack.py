"""Minibatch discrimination and packing: hand values and shapes on MLP and DCGAN discriminators."""

import math

import torch
from torch import nn
from torch.testing import assert_close

from gankit.nets import DCGANDiscriminator, MLPDiscriminator
from gankit.nets.minibatch import MinibatchDiscrimination, MinibatchDiscriminator, add_minibatch_discrimination
from gankit.nets.pack import PackedDiscriminator, packed_shape
from gankit.nets.wavegan import WaveGANDiscriminator


def test_minibatch_features_hand_value():
    layer = MinibatchDiscrimination(2, kernels=1, kernel_dim=2)
    with torch.no_grad():
        layer.T.copy_(torch.eye(2))  # M_i = f_i
    f = torch.tensor([[0.0, 0.0], [1.0, 0.5], [0.0, 2.0]])
    out = layer(f)
    # o_i = sum_{j != i} exp(-||f_i - f_j||_1): L1 distances 1.5 (0-1), 2 (0-2), 2.5 (1-2)
    o = torch.tensor([math.exp(-1.5) + math.exp(-2), math.exp(-1.5) + math.exp(-2.5), math.exp(-2) + math.exp(-2.5)])
    assert_close(out, torch.cat([f, o[:, None]], 1))


def test_identical_samples_light_up_every_kernel():
    layer = MinibatchDiscrimination(4, kernels=3, kernel_dim=2)
    out = layer(torch.ones(5, 4))
    assert_close(out[:, 4:], torch.full((5, 3), 4.0))  # 4 identical neighbours, exp(0) each


def test_added_to_mlp_and_dcgan_discriminators():
    D = add_minibatch_discrimination(MLPDiscriminator((2,), hidden=16, depth=2), kernels=5, kernel_dim=3)
    assert isinstance(D, MinibatchDiscriminator) and D.head.in_features == 16 + 5
    assert D(torch.randn(7, 2)).shape == (7,)
    D = add_minibatch_discrimination(DCGANDiscriminator(28, 1, width=8), kernels=4, kernel_dim=2)
    assert D(torch.randn(3, 1, 28, 28)).shape == (3,)


class _Sum(nn.Module):
    def forward(self, x):
        return x.flatten(1).sum(1)


def test_packing_groups_consecutive_samples():
    x = torch.arange(12.0).view(6, 2)
    out = PackedDiscriminator(_Sum(), 3)(x)
    assert_close(out, torch.tensor([0 + 1 + 2 + 3 + 4 + 5, 6 + 7 + 8 + 9 + 10 + 11.0]))
    assert packed_shape((2,), 3) == (6,) and packed_shape((1, 28, 28), 4) == (4, 28, 28)


def packs_seen_by_d(x: torch.Tensor, m: int) -> torch.Tensor:
    """The input a packed D hands its inner D (recorded by a spy that scores each pack by its mean)."""
    seen = {}

    class Spy(nn.Module):
        def forward(self, p):
            seen["p"] = p
            return p.flatten(1).mean(1)

    PackedDiscriminator(Spy(), m)(x)
    return seen["p"]


def test_packed_images_are_stacked_along_channels():
    x = torch.randn(8, 1, 28, 28)
    packs = packs_seen_by_d(x, 4)
    assert packs.shape == (2, 4, 28, 28)
    assert torch.equal(packs[1, 2], x[6, 0])  # pack 1, member 2 = sample 6
    D = PackedDiscriminator(DCGANDiscriminator(28, 4, width=8), 4)
    assert D(x).shape == (2,)


def copy_params(dst: torch.nn.Module, src: torch.nn.Module) -> None:
    with torch.no_grad():
        for a, b in zip(dst.parameters(), src.parameters(), strict=True):
            a.copy_(b)


def test_mlp_data_scale_scales_g_output_and_d_input():
    from gankit.nets.mlp import MLPDiscriminator, MLPGenerator

    torch.manual_seed(0)
    G1, D1 = MLPGenerator(2, (2,), hidden=8, tanh=False), MLPDiscriminator((2,), hidden=8)
    G4 = MLPGenerator(2, (2,), hidden=8, tanh=False, scale=4.0)
    D4 = MLPDiscriminator((2,), hidden=8, scale=4.0)
    copy_params(G4, G1)
    copy_params(D4, D1)  # (the Scale layer shifts the Sequential's indices: copy in order, not by name)
    z, x = torch.randn(5, 2), torch.randn(5, 2)
    torch.testing.assert_close(G4(z), 4.0 * G1(z))
    torch.testing.assert_close(D4(4.0 * x), D1(x))


def test_mlp_data_scale_survives_minibatch_discrimination():
    from gankit.nets.minibatch import add_minibatch_discrimination
    from gankit.nets.mlp import MLPDiscriminator

    torch.manual_seed(0)
    D1, D4 = MLPDiscriminator((2,), hidden=8), MLPDiscriminator((2,), hidden=8, scale=4.0)
    copy_params(D4, D1)
    M1, M4 = add_minibatch_discrimination(D1, 3, 2), add_minibatch_discrimination(D4, 3, 2)
    copy_params(M4, M1)
    x = torch.randn(6, 2)
    torch.testing.assert_close(M4(4.0 * x), M1(x))


def test_packed_audio_clips_are_stacked_along_channels():
    x = torch.randn(4, 1, 2048)
    packs = packs_seen_by_d(x, 2)
    assert packs.shape == (2, 2, 2048)
    assert torch.equal(packs[1, 0], x[2, 0]) and torch.equal(packs[1, 1], x[3, 0])
    assert packed_shape((1, 2048), 2) == (2, 2048)
    D = PackedDiscriminator(WaveGANDiscriminator(2048, 2, width=4, shuffle=2), 2)
    assert D(x).shape == (2,)
