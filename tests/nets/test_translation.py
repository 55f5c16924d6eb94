"""pix2pix's U-Net and PatchGAN, CycleGAN's residual generator: shapes at every supported size, the PatchGAN's
receptive field against its formula (measured by back-propagating from one logit)."""

import pytest
import torch

from gankit.nets.translation import (
    PatchGAN,
    ResnetGenerator,
    UNet,
    patch_layers,
    patch_receptive_field,
    resnet_receptive_field,
    unet_depth,
)


@pytest.mark.parametrize("size,depth", [(28, 2), (32, 5), (64, 6), (256, 8)])
def test_unet_depth_halves_while_the_side_is_even(size, depth):
    assert unet_depth(size) == depth


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [(1, 1), (1, 3), (3, 3)])
def test_unet_maps_an_image_to_one_of_the_same_size_in_range(size, channels):
    G = UNet(channels[0], channels[1], size, width=4)
    out = G(torch.randn(2, channels[0], size, size))
    assert out.shape == (2, channels[1], size, size)
    assert out.abs().max() <= 1


def test_unet_skip_connections_carry_the_input_past_the_bottleneck():
    # With a 1 x 1 bottleneck, a pixel of the input still moves the output pixel at the same place most.
    torch.manual_seed(0)
    G = UNet(1, 1, 32, width=4, dropout=0.0).eval()
    a = torch.zeros(1, 1, 32, 32, requires_grad=True)
    G(a)[0, 0, 5, 20].backward()
    g = a.grad[0, 0].abs()
    assert g[4:7, 19:22].sum() > g.sum() * 0.2


def test_unet_refuses_a_depth_the_size_cannot_take():
    with pytest.raises(ValueError, match="does not fit"):
        UNet(1, 1, 28, depth=3)


@pytest.mark.parametrize("layers,field", [(0, 7), (1, 16), (2, 34), (3, 70)])
def test_patch_receptive_field_formula(layers, field):
    assert patch_receptive_field(layers) == field


@pytest.mark.parametrize("layers", [0, 1, 2, 3])
def test_patchgan_receptive_field_is_measured_as_the_formula_says(layers):
    size = 96
    D = PatchGAN(2, width=4, layers=layers).eval()  # batch norm on running statistics: no mixing across pixels
    a = torch.zeros(1, 1, size, size, requires_grad=True)
    b = torch.zeros(1, 1, size, size, requires_grad=True)
    logits = D(a, b)
    assert logits.shape == (1, 1, size // 2**layers - 2, size // 2**layers - 2)
    c = logits.shape[-1] // 2
    logits[0, 0, c, c].backward()
    touched = (a.grad[0, 0].abs() + b.grad[0, 0].abs()) > 0
    rows, cols = touched.any(1).nonzero(), touched.any(0).nonzero()
    assert int(rows.max() - rows.min() + 1) == patch_receptive_field(layers)
    assert int(cols.max() - cols.min() + 1) == patch_receptive_field(layers)


@pytest.mark.parametrize("size,layers", [(28, 0), (32, 0), (64, 1), (128, 2), (256, 3)])
def test_patch_layers_scale_the_papers_70_of_256(size, layers):
    assert patch_layers(size) == layers


@pytest.mark.parametrize("size", [28, 32, 64])
def test_patchgan_gives_one_logit_per_patch_at_each_supported_size(size):
    layers = patch_layers(size)
    D = PatchGAN(4, width=4, layers=layers)
    out = D(torch.randn(2, 1, size, size), torch.randn(2, 3, size, size))
    assert out.shape == (2, 1, size // 2**layers - 2, size // 2**layers - 2)


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("downsamplings", [0, 1, 2])
def test_resnet_generator_keeps_the_shape(size, channels, downsamplings):
    G = ResnetGenerator(channels, width=4, blocks=2, downsamplings=downsamplings)
    out = G(torch.randn(2, channels, size, size))
    assert out.shape == (2, channels, size, size) and out.abs().max() <= 1


def test_resnet_generator_names_a_side_its_halvings_cannot_take():
    with pytest.raises(ValueError, match="multiples of 2"):
        ResnetGenerator(1, width=4, blocks=1, downsamplings=1)(torch.randn(1, 1, 27, 27))
    ResnetGenerator(1, width=4, blocks=1, downsamplings=0)(torch.randn(1, 1, 27, 27))  # any side at full resolution
    with pytest.raises(ValueError, match="downsamplings: 3"):
        ResnetGenerator(1, downsamplings=3)


@pytest.mark.parametrize("downsamplings,blocks,field", [(0, 3, 25), (1, 3, 41), (2, 3, 73), (0, 0, 13), (2, 1, 41)])
def test_resnet_receptive_field_is_measured_as_the_formula_says(downsamplings, blocks, field):
    assert resnet_receptive_field(blocks, downsamplings) == field
    torch.manual_seed(0)
    G = ResnetGenerator(1, width=8, blocks=blocks, downsamplings=downsamplings)
    for parent in G.modules():  # instance norm mixes the whole image into every pixel: leave it out to measure
        for name, child in parent.named_children():
            if isinstance(child, torch.nn.InstanceNorm2d):
                setattr(parent, name, torch.nn.Identity())
    span = 0
    for offset in range(4):  # every phase of the stride-4 grid: the field's extent depends on it
        a = torch.randn(1, 1, 96, 96, requires_grad=True)  # random, so no ReLU is dead everywhere
        G(a)[0, 0, 48 + offset, 48 + offset].backward()
        rows = (a.grad[0, 0].abs() > 0).any(1).nonzero()
        span = max(span, int(rows.max() - rows.min() + 1))
    assert span == field


def test_unconditional_patchgan_scores_one_image():
    D = PatchGAN(3, width=4, layers=1, norm="instance")
    assert D(torch.randn(2, 3, 28, 28)).shape == (2, 1, 12, 12)
