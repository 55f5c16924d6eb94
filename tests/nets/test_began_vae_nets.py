"""Shapes of the BEGAN and VAE networks; BEGAN's D returns the per-sample reconstruction loss."""

import pytest
import torch

from gankit.nets import BEGANDiscriminator, BEGANGenerator
from gankit.nets.vae import build_vae


@pytest.mark.parametrize("size,channels", [(28, 1), (32, 3)])
def test_began_shapes_and_reconstruction_loss(size, channels):
    G = BEGANGenerator(z_dim=8, img_size=size, channels=channels, width=4)
    D = BEGANDiscriminator(img_size=size, channels=channels, width=4, z_dim=8)
    x = G(torch.randn(3, 8))
    assert x.shape == (3, channels, size, size)
    assert D.reconstruct(x).shape == x.shape
    torch.testing.assert_close(D(x), (x - D.reconstruct(x)).abs().mean(dim=(1, 2, 3)))


@pytest.mark.parametrize("arch", ["conv", "mlp"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_vae_shapes(arch, shape):
    enc, dec = build_vae(arch, 6, shape, 8)
    mu, logvar = enc(torch.randn(2, *shape))
    assert mu.shape == logvar.shape == (2, 6)
    assert dec(mu).shape == (2, *shape)
