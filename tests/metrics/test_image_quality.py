"""PSNR, SSIM, luma and high-frequency energy against hand values and an independent SSIM (scikit-image)."""

import math

import pytest
import torch
from torch.testing import assert_close

from gankit.metrics.image_quality import high_frequency_energy, high_frequency_ratio, psnr, rgb_to_y, shave, ssim


def test_psnr_hand_value_and_identity():
    x = torch.zeros(2, 1, 2, 2)
    y = x + 0.2  # MSE 0.04 on a range of 2: 10 log10(4 / 0.04) = 20 dB
    assert_close(psnr(x, y), torch.tensor([20.0, 20.0]))
    assert_close(psnr(x, x + 0.1, data_range=1.0), torch.tensor([20.0, 20.0]))  # 10 log10(1 / 0.01)
    assert math.isinf(float(psnr(x, x)[0]))


def test_psnr_is_per_image():
    x = torch.zeros(2, 3, 4, 4)
    y = torch.stack([torch.full((3, 4, 4), 0.2), torch.full((3, 4, 4), 0.02)])
    assert_close(psnr(x, y), torch.tensor([20.0, 40.0]))


def test_ssim_of_constant_images_is_the_luminance_term():
    # var = cov = 0: SSIM = (2ab + C1) / (a^2 + b^2 + C1), C1 = (0.01 * range)^2
    a, b, c1 = 0.5, 0.25, 1e-4
    x, y = torch.full((1, 1, 16, 16), a), torch.full((1, 1, 16, 16), b)
    assert_close(ssim(x, y, data_range=1.0), torch.tensor([(2 * a * b + c1) / (a * a + b * b + c1)]))
    assert_close(ssim(x, x, data_range=1.0), torch.tensor([1.0]))


def test_ssim_matches_scikit_image():
    skimage_metrics = pytest.importorskip("skimage.metrics")
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 40, 48, generator=g)
    y = (x + 0.2 * torch.randn(2, 3, 40, 48, generator=g)).clamp(0, 1)
    ours = ssim(x, y, data_range=1.0)
    for i in range(2):
        ref = skimage_metrics.structural_similarity(
            x[i].permute(1, 2, 0).double().numpy(),
            y[i].permute(1, 2, 0).double().numpy(),
            data_range=1.0,
            channel_axis=2,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        assert_close(float(ours[i]), float(ref), atol=1e-5, rtol=0)


def test_ssim_rejects_small_or_mismatched_images():
    with pytest.raises(ValueError, match="window"):
        ssim(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="shapes differ"):
        ssim(torch.zeros(1, 1, 16, 16), torch.zeros(1, 1, 16, 17))


def test_rgb_to_y_bt601_values():
    white, black = torch.ones(1, 3, 1, 1), -torch.ones(1, 3, 1, 1)
    red = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1)
    assert_close(rgb_to_y(white), torch.full((1, 1, 1, 1), 235 / 255))
    assert_close(rgb_to_y(black), torch.full((1, 1, 1, 1), 16 / 255))
    assert_close(rgb_to_y(red), torch.full((1, 1, 1, 1), (16 + 65.481) / 255))
    gray = torch.full((1, 1, 1, 1), 1.0)  # one channel: taken as luma
    assert_close(rgb_to_y(gray), torch.full((1, 1, 1, 1), 235 / 255))


def test_shave_drops_the_border():
    x = torch.arange(36.0).view(1, 1, 6, 6)
    assert_close(shave(x, 2), x[..., 2:4, 2:4])
    assert shave(x, 0) is x


def test_high_frequency_energy_sorts_frequencies():
    i = torch.arange(32.0)
    checker = ((i[:, None] + i[None, :]) % 2 * 2 - 1).view(1, 1, 32, 32)  # 0.5 cycles/pixel: all high
    slow = torch.sin(2 * math.pi * i / 32).expand(32, 32).reshape(1, 1, 32, 32)  # 1/32 cycles/pixel: all low
    flat = torch.full((1, 1, 32, 32), 0.3)
    # Parseval: the energy of the mean-removed checkerboard (values +-1) is its mean square, 1, all above 0.125.
    assert_close(high_frequency_energy(checker, 0.125), torch.tensor([1.0], dtype=torch.float64))
    assert_close(high_frequency_energy(slow, 0.125), torch.tensor([0.0], dtype=torch.float64), atol=1e-12, rtol=0)
    assert_close(high_frequency_energy(flat, 0.125), torch.tensor([0.0], dtype=torch.float64), atol=1e-12, rtol=0)
    assert_close(high_frequency_ratio(0.5 * checker + slow, checker, 0.125), torch.tensor([0.25]))


def test_luma_psnr_of_white_against_mid_gray_by_hand():
    # Y(white) = 235/255; Y(mid gray, 0 in [-1, 1]) = (16 + 0.5 * 219) / 255 = 125.5/255; on the 0..255 scale the
    # error is 109.5 everywhere: PSNR = 20 log10(255 / 109.5) = 7.3425 dB, whatever the border shaved.
    white, gray = torch.ones(1, 3, 12, 12), torch.zeros(1, 3, 12, 12)
    expected = torch.tensor([20 * math.log10(255 / 109.5)])
    assert_close(psnr(shave(rgb_to_y(white), 4), shave(rgb_to_y(gray), 4), data_range=1.0), expected)
