import pytest
import torch
from torch import nn

from gankit.nets import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, default_depth


@pytest.mark.parametrize("size", [28, 32, 64, 128, 256])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes_for_every_supported_size(size, channels):
    G = DCGANGenerator(z_dim=16, img_size=size, channels=channels, width=8)
    D = DCGANDiscriminator(img_size=size, channels=channels, width=8)
    x = G(torch.randn(2, 16))
    assert x.shape == (2, channels, size, size)
    assert D(x).shape == (2,)
    assert x.abs().max() <= 1.0  # tanh output


def test_depth_and_width_are_parameters():
    G = DCGANGenerator(z_dim=8, img_size=64, channels=1, width=4, depth=3)  # base 8x8
    assert G.net[0].kernel_size == (8, 8) and G.net[0].out_channels == 16
    assert G(torch.randn(3, 8)).shape == (3, 1, 64, 64)
    D = DCGANDiscriminator(img_size=64, channels=1, width=4, depth=3)
    assert D.head.kernel_size == (8, 8)
    assert default_depth(28) == 2 and default_depth(64) == 4
    with pytest.raises(ValueError):
        DCGANGenerator(img_size=28, depth=3)  # 28 / 8 is not whole


def test_dcgan_follows_the_guidelines():
    G = DCGANGenerator(z_dim=16, img_size=32, channels=3, width=8)
    D = DCGANDiscriminator(img_size=32, channels=3, width=8)
    kinds = lambda m: [type(layer) for layer in m.modules()]  # noqa: E731
    assert nn.Linear not in kinds(G) and nn.Linear not in kinds(D)  # no fully connected hidden layers
    assert not any(isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)) for layer in D.modules())  # strided convs, no pooling
    assert isinstance(G.net[-1], nn.Tanh) and isinstance(G.net[-2], nn.ConvTranspose2d)  # no BN at G's output
    assert isinstance(D.features[0], nn.Conv2d) and isinstance(D.features[1], nn.LeakyReLU)  # no BN at D's input
    assert D.features[1].negative_slope == 0.2
    w = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert abs(w.std().item() - 0.02) < 0.002 and abs(w.mean().item()) < 0.002  # N(0, 0.02)


@pytest.mark.parametrize("shape", [(1,), (2,), (1, 28, 28)])
def test_mlp_shapes(shape):
    G = MLPGenerator(z_dim=5, out_shape=shape, hidden=16, depth=2, tanh=len(shape) == 3)
    D = MLPDiscriminator(shape, hidden=16, depth=2)
    x = G(torch.randn(4, 5))
    assert x.shape == (4, *shape)
    assert D(x).shape == (4,)
