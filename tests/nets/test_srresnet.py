"""SRResNet and the SR discriminator: shapes, the bicubic skip, and the resampling kernels."""

import numpy as np
import pytest
import torch
from PIL import Image
from torch.testing import assert_close

from gankit.nets.srresnet import SRDiscriminator, SRResNet, downscale_bicubic, upscale_bicubic


@pytest.mark.parametrize("channels,scale", [(1, 4), (3, 4), (3, 2), (1, 8)])
def test_srresnet_upscales_by_its_factor(channels, scale):
    G = SRResNet(channels, scale, width=8, blocks=2)
    assert G(torch.randn(2, channels, 7, 9)).shape == (2, channels, 7 * scale, 9 * scale)


def test_srresnet_rejects_other_factors():
    with pytest.raises(ValueError, match="powers of two"):
        SRResNet(3, 3)


def test_bicubic_skip_makes_a_silent_network_bicubic():
    G = SRResNet(3, 4, width=8, blocks=1, bicubic_skip=True)
    torch.nn.init.zeros_(G.tail.weight), torch.nn.init.zeros_(G.tail.bias)
    s = torch.rand(1, 3, 6, 6) * 2 - 1
    assert_close(G(s), upscale_bicubic(s, 4))
    G.bicubic_skip = False
    assert_close(G(s), torch.zeros(1, 3, 24, 24))


@pytest.mark.parametrize("size", [16, 28, 64])
def test_sr_discriminator_gives_one_logit_per_image_at_any_size(size):
    D = SRDiscriminator(3, width=4)
    assert D(torch.randn(3, 3, size, size)).shape == (3,)


def test_resampling_matches_pil_bicubic():
    # PIL's bicubic (a = -0.5, support stretched when shrinking) is MATLAB imresize's: the SR benchmarks' kernel.
    rng = np.random.default_rng(0)
    a = (rng.random((32, 40, 3)) * 255).astype(np.uint8)
    a = np.asarray(Image.fromarray(a).resize((80, 64), Image.BILINEAR))  # smooth it a little
    t = torch.from_numpy(a.astype(np.float32)).permute(2, 0, 1)[None]
    down = downscale_bicubic(t, 4)[0].permute(1, 2, 0).round().clamp(0, 255).numpy()
    pil_down = np.asarray(Image.fromarray(a).resize((20, 16), Image.BICUBIC)).astype(np.float32)
    assert np.abs(down - pil_down).max() <= 1  # rounding only
    up = upscale_bicubic(torch.from_numpy(pil_down).permute(2, 0, 1)[None], 4)[0].permute(1, 2, 0)
    pil_up = np.asarray(Image.fromarray(pil_down.astype(np.uint8)).resize((80, 64), Image.BICUBIC))
    assert np.abs(up.round().clamp(0, 255).numpy() - pil_up).mean() < 0.5
