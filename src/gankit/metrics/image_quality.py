"""Full-reference image quality: PSNR, SSIM, the luma channel they are usually taken on, and high-frequency energy.

All functions take batches N x C x H x W (images in [-1, 1] unless ``data_range`` says otherwise) and return
one value per image, so callers can average, take a median or report per image.

Super-resolution papers (Ledig et al. 2017 and the tables they compare with) score PSNR and SSIM on the Y channel
of YCbCr (ITU-R BT.601, Y in [16, 235] of 255) after shaving ``scale`` pixels from each border: :func:`rgb_to_y`
and :func:`shave` reproduce that convention.

SSIM is written here in torch rather than taken from scikit-image because it runs on batches (every horizon of a
video prediction, every image of an evaluation set) on the training device; its test checks it against
``skimage.metrics.structural_similarity`` with the same Gaussian window.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# ITU-R BT.601 luma from R, G, B in [0, 1], on the [16, 235] / 255 scale (MATLAB's rgb2ycbcr).
_Y_WEIGHTS = (65.481 / 255, 128.553 / 255, 24.966 / 255)
_Y_OFFSET = 16 / 255


def rgb_to_y(x: torch.Tensor) -> torch.Tensor:
    """The BT.601 luma of RGB images in [-1, 1], as N x 1 x H x W in [16/255, 235/255] (score it with
    ``data_range=1``). One-channel images are taken as luma already and mapped to the same scale."""
    x = (x.clamp(-1, 1) + 1) / 2
    if x.shape[1] == 1:
        return _Y_OFFSET + x * (219 / 255)
    w = torch.tensor(_Y_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return _Y_OFFSET + (x * w).sum(1, keepdim=True)


def shave(x: torch.Tensor, border: int) -> torch.Tensor:
    """Drop ``border`` pixels from each side (the SR convention: border = the scale factor)."""
    return x[..., border:-border, border:-border] if border > 0 else x


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image: 10 log10(range^2 / MSE). Identical images give +inf.

    Example: two 1x1x2x2 images that differ by 0.2 in every pixel, range 2: 10 log10(4 / 0.04) = 20 dB.
    """
    mse = (x.double() - y.double()).pow(2).flatten(1).mean(1)
    return (10 * torch.log10(data_range**2 / mse)).float()


def _gaussian_window(size: int, sigma: float, channels: int, device, dtype) -> torch.Tensor:
    r = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def ssim(
    x: torch.Tensor, y: torch.Tensor, data_range: float = 2.0, window: int = 11, sigma: float = 1.5
) -> torch.Tensor:
    """Structural similarity per image (Wang, Bovik, Sheikh & Simoncelli 2004): local means, variances and
    covariance under an 11 x 11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, averaged over the positions
    where the window fits inside the image (no padding) and over channels.

    SSIM(x, y) = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2)).
    """
    if x.shape != y.shape:
        raise ValueError(f"ssim: shapes differ, {tuple(x.shape)} vs {tuple(y.shape)}")
    if min(x.shape[-2:]) < window:
        raise ValueError(f"ssim: images of {tuple(x.shape[-2:])} are smaller than the {window}-pixel window")
    x, y = x.double(), y.double()
    c = x.shape[1]
    w = _gaussian_window(window, sigma, c, x.device, x.dtype)

    def blur(t):
        return F.conv2d(t, w, groups=c)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1).float()


def high_frequency_energy(x: torch.Tensor, cutoff: float) -> torch.Tensor:
    """Per image, the spectral energy above ``cutoff`` cycles per pixel (radial frequency; Nyquist is 0.5),
    summed over channels, of the mean-removed image, as a mean square per pixel (all frequencies: the variance).

    For 4x super-resolution a cutoff of 0.5 / 4 = 0.125 keeps exactly the band the low-resolution input cannot
    carry: what an upscaler has to invent. A blurry (mean-seeking) output has little energy there.
    """
    x = x.double()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2)
    fy = torch.fft.fftfreq(x.shape[-2], device=x.device, dtype=x.dtype)
    fx = torch.fft.fftfreq(x.shape[-1], device=x.device, dtype=x.dtype)
    radius = torch.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    # Parseval: sum |X|^2 / (HW) = sum x^2, so dividing once more by HW gives a mean square per pixel.
    return (power * (radius > cutoff)).flatten(1).sum(1) / math.prod(x.shape[-2:]) ** 2


def high_frequency_ratio(x: torch.Tensor, reference: torch.Tensor, cutoff: float) -> torch.Tensor:
    """Per image, the high-frequency energy of ``x`` over that of ``reference`` (1: as much fine detail as the
    ground truth; below 1: smoother, above 1: more, e.g. noise or artefacts)."""
    return (high_frequency_energy(x, cutoff) / high_frequency_energy(reference, cutoff)).float()
