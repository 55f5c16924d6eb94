"""Random affine jitter of a batch of images: the source-side augmentation of domain adaptation.

Small random shifts, rotations, scalings and shears of each labelled source image, drawn afresh at
every step: a common ingredient of unsupervised domain adaptation on digit pairs such as USPS -> MNIST.
It teaches the label predictor that a digit keeps its class when the writer or the scanner moves,
turns or stretches it a little, part of what differs between two digit datasets. Only the source
batch is jittered; the target items are never changed.

Each image draws its own parameters, uniformly within the bounds of an :class:`AffineJitter`:

    rotation  theta in [-rotate, rotate] degrees
    scale     s_x, s_y = s * a, s / a with s in [1 - scale, 1 + scale] and a in [1 - aspect, 1 + aspect]
    shear     k in [-shear, shear] (x moves by k * y)
    shift     t in [-shift, shift] pixels, both axes

applied about the image centre with bilinear sampling, the background (-1, black) filling what
comes in from outside the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AffineJitter:
    """Bounds of the random affine jitter (0 everywhere: the identity)."""

    shift: float = 0.0  # pixels
    rotate: float = 0.0  # degrees
    scale: float = 0.0  # relative, isotropic
    aspect: float = 0.0  # relative, width against height
    shear: float = 0.0  # x += shear * y

    @property
    def is_identity(self) -> bool:
        return self.shift == self.rotate == self.scale == self.aspect == self.shear == 0.0


def affine_matrices(n: int, jitter: AffineJitter, size: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random N x 2 x 3 matrices for :func:`torch.nn.functional.affine_grid` (normalised coordinates).

    The matrix maps output coordinates to input coordinates, so it is the inverse of the image's
    motion; the bounds are symmetric, so the inverse is drawn from the same distribution.

    Args:
        n: number of matrices.
        jitter: the bounds.
        size: the image side in pixels (converts ``shift`` to normalised units, 2 / size per pixel).
        generator: the random source (None: torch's global one).

    Returns:
        float32 N x 2 x 3.
    """
    u = lambda: 2 * torch.rand(n, generator=generator) - 1  # noqa: E731  U[-1, 1]
    theta = u() * math.radians(jitter.rotate)
    s = 1 + u() * jitter.scale
    a = 1 + u() * jitter.aspect
    k = u() * jitter.shear
    tx, ty = u() * jitter.shift * 2 / size, u() * jitter.shift * 2 / size
    cos, sin = torch.cos(theta), torch.sin(theta)
    # A = R(theta) @ [[1, k], [0, 1]] @ diag(1 / (s a), a / s): rotate a sheared, scaled grid.
    sx, sy = 1 / (s * a), a / s
    m = torch.zeros(n, 2, 3)
    m[:, 0, 0], m[:, 0, 1] = cos * sx, (cos * k - sin) * sy
    m[:, 1, 0], m[:, 1, 1] = sin * sx, (sin * k + cos) * sy
    m[:, 0, 2], m[:, 1, 2] = tx, ty
    return m


def jitter_images(
    x: torch.Tensor, jitter: AffineJitter, generator: torch.Generator | None = None, fill: float = -1.0
) -> torch.Tensor:
    """Apply a fresh random affine jitter to every image of ``x``.

    Args:
        x: N x C x H x W images in [-1, 1] (H = W).
        jitter: the bounds; an identity jitter returns ``x`` itself.
        generator: the random source of the parameters (None: torch's global one).
        fill: the value of what comes in from outside the image (-1: black background).

    Returns:
        Images of the same shape, dtype and device.
    """
    if jitter.is_identity:
        return x
    return warp(x, affine_matrices(x.shape[0], jitter, x.shape[-1], generator), fill)


def warp(x: torch.Tensor, m: torch.Tensor, fill: float = -1.0) -> torch.Tensor:
    """Resample images by affine matrices: output pixel at (normalised) p reads the input at ``m @ [p, 1]``.

    Args:
        x: N x C x H x W images.
        m: N x 2 x 3 matrices in the normalised coordinates of :func:`torch.nn.functional.affine_grid`
            (pixel centres, ``align_corners=False``: a shift of 2 / W is one pixel).
        fill: the value of what comes in from outside the image.

    Returns:
        Images of the same shape, bilinearly sampled.
    """
    grid = F.affine_grid(m.to(x.device, x.dtype), list(x.shape), align_corners=False)
    # Sample x - fill with zero padding, then add fill back: the border takes the value ``fill``.
    return F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + fill
