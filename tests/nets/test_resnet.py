"""Shapes of the SNGAN-style ResNets, and their registration as arch ``resnet``."""

import pytest
import torch

from gankit.config import load_config
from gankit.nets import ARCHS, ResNetDiscriminator, ResNetGenerator, build_gan


@pytest.mark.parametrize("size,channels,depth", [(28, 1, None), (32, 3, None), (64, 3, 3)])
def test_shapes(size, channels, depth):
    G = ResNetGenerator(z_dim=16, img_size=size, channels=channels, width=8, depth=depth)
    D = ResNetDiscriminator(img_size=size, channels=channels, width=8, depth=depth)
    x = G(torch.randn(3, 16))
    assert x.shape == (3, channels, size, size)
    assert x.abs().max() <= 1.0  # tanh output
    assert D(x).shape == (3,)
    assert D.features(x).shape == (3, 8)


def test_discriminator_has_no_batch_norm():
    """Gradient penalties and spectral norm assume per-sample outputs: no batch statistics in D."""
    D = ResNetDiscriminator(img_size=28, channels=1, width=8)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in D.modules())
    x = torch.randn(4, 1, 28, 28)
    # Equal up to float rounding: oneDNN may pick a different convolution kernel for another batch size.
    torch.testing.assert_close(D(x)[:2], D(x[:2]), rtol=1e-5, atol=1e-6)


def test_registered_and_spectral_norm_switch():
    assert "resnet" in ARCHS
    cfg = load_config("hinge-sn-fashion-mnist", ["model.g_width=8", "model.d_width=8"])
    G, D = build_gan(cfg.model, (1, 28, 28))
    assert isinstance(G, ResNetGenerator) and isinstance(D, ResNetDiscriminator)
    convs = [m for m in D.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert convs and all(hasattr(m, "parametrizations") for m in convs)
    assert not any(hasattr(m, "parametrizations") for m in G.modules())  # SN is D's
