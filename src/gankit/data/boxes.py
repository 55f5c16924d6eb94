"""Fashion-MNIST garments placed on a 64 x 64 canvas at a bounding box, for GANs told what and where to draw
(Reed et al. 2016, "Learning What and Where to Draw"; :mod:`gankit.methods.gawwn`, docs/text-and-location.md).

Each garment's tight box (its pixels above :data:`INK`) is scaled by a factor drawn from [1, 1.9], keeping its
aspect ratio, and placed at a uniformly drawn position of the canvas: the box is where the object is, by
construction. Boxes are (x0, y0, x1, y1) as fractions of the canvas side, x1 and y1 exclusive
(``box * 64`` in pixels). The placement is seeded (seed 0 for the training split, 1 for the test split) and
done in one batched ``grid_sample``.

Pure functions for the conditioning and its measurement: :func:`box_masks` (the share of each cell of an
S x S grid that a box covers: the spatial masks G and D are conditioned on), :func:`object_boxes` (the tight
box of an image's object) and :func:`box_iou`.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from gankit.data.base import TensorData, register

CANVAS = 64
INK = 0.25  # intensity in [0, 1] above which a pixel belongs to the object (for its box)
SCALE = (1.0, 1.9)  # the garment's scale on the canvas (its 28 x 28 crop spans at most 28 * 1.9 = 53 pixels)
TRAIN_ITEMS, TEST_ITEMS = 20_000, 2_000  # 64 x 64 floats: the first 20,000 training images take 330 MB


def box_masks(boxes: torch.Tensor, size: int) -> torch.Tensor:
    """The share of each cell of a size x size grid over the unit square that each box covers: N x 1 x S x S.

    Args:
        boxes: N x 4 boxes (x0, y0, x1, y1) in [0, 1], x1 >= x0, y1 >= y0.
        size: the grid's side S (the mask of a feature map of that resolution).

    Example:
        >>> box_masks(torch.tensor([[0.25, 0.0, 0.75, 0.5]]), 2)[0, 0]
        tensor([[0.5000, 0.5000],
                [0.0000, 0.0000]])
    """
    edges = torch.arange(size + 1, dtype=boxes.dtype, device=boxes.device) / size  # [S + 1]
    lo, hi = edges[:-1], edges[1:]  # each cell's [lo, hi)

    def cover(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # [N, S]: overlap of [a, b] with each cell
        return ((torch.minimum(b[:, None], hi) - torch.maximum(a[:, None], lo)).clamp(min=0) * size).clamp(max=1)

    x, y = cover(boxes[:, 0], boxes[:, 2]), cover(boxes[:, 1], boxes[:, 3])
    return (y[:, :, None] * x[:, None, :]).unsqueeze(1)  # [N, 1, S(y), S(x)]


def object_boxes(x: torch.Tensor, ink: float = INK) -> torch.Tensor:
    """The tight box of each image's pixels above ``ink`` (in [0, 1]): N x 4 fractions (x0, y0, x1, y1) of the
    side, x1 and y1 exclusive; an image with no such pixel gets the empty box (0, 0, 0, 0).

    Args:
        x: N x 1 x H x W images in [-1, 1] (the object light on a dark background).
    """
    on = (x[:, 0] + 1) / 2 > ink  # [N, H, W]
    h, w = on.shape[1:]
    rows, cols = on.any(2), on.any(1)  # [N, H], [N, W]

    def extent(m: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.arange(n, device=m.device).expand_as(m)
        first = torch.where(m, idx, n).min(1).values
        last = torch.where(m, idx, -1).max(1).values + 1
        return first, last

    (y0, y1), (x0, x1) = extent(rows, h), extent(cols, w)
    boxes = torch.stack([x0 / w, y0 / h, x1 / w, y1 / h], 1).float()
    return torch.where(on.flatten(1).any(1)[:, None], boxes, torch.zeros_like(boxes))


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Intersection over union of two sets of N boxes (x0, y0, x1, y1): N values in [0, 1] (0 for two empty boxes)."""
    iw = (torch.minimum(a[:, 2], b[:, 2]) - torch.maximum(a[:, 0], b[:, 0])).clamp(min=0)
    ih = (torch.minimum(a[:, 3], b[:, 3]) - torch.maximum(a[:, 1], b[:, 1])).clamp(min=0)
    inter = iw * ih
    area = lambda t: (t[:, 2] - t[:, 0]).clamp(min=0) * (t[:, 3] - t[:, 1]).clamp(min=0)  # noqa: E731
    union = area(a) + area(b) - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(union))


def place(x: torch.Tensor, seed: int, canvas: int = CANVAS) -> tuple[torch.Tensor, torch.Tensor]:
    """Each 28 x 28 garment scaled and moved onto a canvas x canvas image at a random box (see the module
    docstring). Returns (images N x 1 x canvas x canvas in [-1, 1], boxes N x 4 in [0, 1])."""
    g = torch.Generator().manual_seed(seed)
    n, side = len(x), x.shape[-1]
    src = object_boxes(x) * side  # [N, 4] in source pixels
    src = torch.where((src[:, 2:] > src[:, :2]).all(1, keepdim=True), src, torch.tensor([0.0, 0, side, side]))
    scale = SCALE[0] + (SCALE[1] - SCALE[0]) * torch.rand(n, generator=g)
    size = ((src[:, 2:] - src[:, :2]) * scale[:, None]).round().clamp(2, canvas)  # [N, 2]: w, h in canvas pixels
    origin = ((canvas - size + 1) * torch.rand(n, 2, generator=g)).floor()  # box fully inside the canvas
    dst = torch.cat([origin, origin + size], 1)  # [N, 4]
    # The affine map from canvas coordinates in [-1, 1] to source coordinates in [-1, 1] (align_corners=False:
    # pixel p spans [p, p + 1), its centre at (p + 0.5)); per axis src = s0 + (dst_px - d0) * r.
    r = (src[:, 2:] - src[:, :2]) / size  # [N, 2]: source pixels per canvas pixel
    a = 2 / side * (canvas / 2) * r
    b = 2 / side * (src[:, :2] + (canvas / 2 - dst[:, :2]) * r) - 1
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, 0, 2], theta[:, 1, 2] = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    out = []
    for i in range(0, n, 2000):  # chunks: the sampling grid of 20,000 images would take 650 MB
        grid = F.affine_grid(theta[i : i + 2000], [len(theta[i : i + 2000]), 1, canvas, canvas], align_corners=False)
        u = F.grid_sample((x[i : i + 2000] + 1) / 2, grid, align_corners=False)  # outside the source: 0 (black)
        out.append(u * 2 - 1)
    return torch.cat(out), dst / canvas


@functools.lru_cache(maxsize=2)
def _placed(split: str, root: str | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    from gankit.data.fashion_mnist import fashion_mnist

    base = fashion_mnist(split, root)
    assert base.y is not None
    n = TRAIN_ITEMS if split == "train" else TEST_ITEMS
    x, boxes = place(base.x[:n], seed=0 if split == "train" else 1)
    return x, base.y[:n].clone(), boxes


@register("fashion-mnist-boxes")
def fashion_mnist_boxes(
    split: str = "train", root: str | None = None, img_size: int | None = None, channels: int | None = None
) -> TensorData:
    """Fashion-MNIST garments on a 64 x 64 canvas with their boxes (``box``: N x 4 fractions (x0, y0, x1, y1)):
    the first 20,000 training images, or the first 2,000 test images. ``img_size`` and ``channels`` must be
    left unset (the boxes are measured on this canvas)."""
    from gankit.data.fashion_mnist import CLASSES
    from gankit.errors import UserError

    if (img_size not in (None, CANVAS)) or (channels not in (None, 1)):
        raise UserError(f"data.name=fashion-mnist-boxes: a 64 x 64 grey canvas (got img_size={img_size}, "
                        f"channels={channels})")  # fmt: skip
    x, y, boxes = _placed(split, root)
    return TensorData(x=x, y=y, classes=list(CLASSES), name="fashion-mnist-boxes", extra={"box": boxes})
