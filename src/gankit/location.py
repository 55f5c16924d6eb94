"""Sampling where to draw with a trained what-where run (:mod:`gankit.methods.gawwn`) and its scores.

- :func:`parse_box`: ``x0,y0,x1,y1`` in canvas pixels -> fractions, with one-line errors;
- :func:`sample_boxes`: n samples of a class in a box;
- :func:`box_scores`: the IoU of each sample's measured box (:func:`gankit.data.boxes.object_boxes`) with the
  box asked for, on the classes and boxes of held-out test images, and the shipped classifier's agreement
  with the class (on the box's content resized to 28 x 28);
- :func:`moving_object`: one latent, one class, the box moved across the canvas (a figure's rows).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from gankit.data.boxes import CANVAS, box_iou, object_boxes
from gankit.errors import UserError

CHUNK = 500


def parse_box(text: str, canvas: int = CANVAS) -> torch.Tensor:
    """``"x0,y0,x1,y1"`` in pixels of the canvas -> a box of fractions (4,). One-line error when it is not four
    numbers with 0 <= x0 < x1 <= canvas and 0 <= y0 < y1 <= canvas."""
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"--box {text}: four numbers x0,y0,x1,y1 (pixels of the {canvas} x {canvas} canvas)") from None
    if not (0 <= x0 < x1 <= canvas and 0 <= y0 < y1 <= canvas):
        raise UserError(f"--box {text}: need 0 <= x0 < x1 <= {canvas} and 0 <= y0 < y1 <= {canvas}")
    return torch.tensor([x0, y0, x1, y1]) / canvas


def _load(run_dir: str | Path, device: str):
    from gankit.train.restore import load_generator

    method, cfg = load_generator(run_dir, device)
    if cfg.method != "gawwn":
        raise UserError(f"--box: the {cfg.method} run {run_dir} takes no box; drawing in a box needs a gawwn run")
    return method


def sample_boxes(
    run_dir: str | Path, box: torch.Tensor, cls: int | str, n: int = 8, seed: int = 0, device: str = "cpu"
) -> torch.Tensor:
    """``n`` samples of class ``cls`` (an index or a name of the run's classes, as ``gankit sample --class``)
    in ``box`` (fractions, :func:`parse_box`), from seeded latents."""
    from gankit.api import _class_index

    method = _load(run_dir, device)
    k = _class_index(tuple(method.classes), cls, f"gawwn run {run_dir}")
    z = torch.randn(n, method.z_dim, generator=torch.Generator().manual_seed(seed))
    return method.sample(z, torch.cat([torch.tensor([float(k)]), box])).cpu()


def moving_object(run_dir: str | Path, sizes: dict[int, tuple[float, float]], steps: int = 5, seed: int = 0):
    """For each class k of ``sizes`` one latent (the same for all), a box of its size (w, h: fractions) moved
    left to right along the top, the middle and the bottom of the canvas: len(sizes) * 3 * steps images,
    ``steps`` a row."""
    method = _load(run_dir, "cpu")
    z = torch.randn(1, method.z_dim, generator=torch.Generator().manual_seed(seed))
    rows = []
    for k, (w, h) in sizes.items():
        for y0 in (0.0, (1 - h) / 2, 1 - h):
            xs = torch.linspace(0, 1 - w, steps).tolist()
            cond = torch.tensor([[float(k), x0, y0, x0 + w, y0 + h] for x0 in xs])
            rows.append(method.sample(z.expand(steps, -1), cond).cpu())
    return torch.cat(rows)


def typical_sizes(classes: list[int], split: str = "test") -> dict[int, tuple[float, float]]:
    """The median box (width, height) of each class on the boxed canvases of ``split``: a box a class fits."""
    from gankit.data import load_dataset

    data = load_dataset("fashion-mnist-boxes", split=split)
    assert data.y is not None
    wh = data.extra["box"][:, 2:] - data.extra["box"][:, :2]
    return {k: (wh[data.y == k, 0].median().item(), wh[data.y == k, 1].median().item()) for k in classes}


@torch.no_grad()
def box_scores(run_dir: str | Path, n: int = 2000, seed: int = 0, iou_at: float = 0.6) -> dict:
    """Samples for the classes and boxes of the first ``n`` held-out test canvases (:mod:`gankit.data.boxes`,
    test split), one seeded latent each; returns mean IoU, the share with IoU >= ``iou_at``, and the shipped
    classifier's class agreement on each sample's requested box cropped and resized to 28 x 28."""
    from gankit.data import load_dataset
    from gankit.metrics.classifier_training import load_classifier, shipped_path

    method = _load(run_dir, "cpu")
    test = load_dataset("fashion-mnist-boxes", split="test")
    assert test.y is not None
    y, boxes = test.y[:n], test.extra["box"][:n]
    z = torch.randn(len(y), method.z_dim, generator=torch.Generator().manual_seed(seed))
    cond = torch.cat([y[:, None].float(), boxes], 1)
    x = torch.cat([method.sample(zc, cc) for zc, cc in zip(z.split(CHUNK), cond.split(CHUNK))]).cpu()
    iou = box_iou(object_boxes(x), boxes)
    classifier, _ = load_classifier(shipped_path("fashion-mnist-classifier"))

    def classify(images: torch.Tensor) -> torch.Tensor:  # the content of each box, framed as a 28 x 28 garment
        pairs = zip(images.split(CHUNK), boxes.split(CHUNK))
        return torch.cat([classifier(_crop(xc, bc)).argmax(1) for xc, bc in pairs])

    predicted, real = classify(x), classify(test.x[:n])
    real_iou = box_iou(object_boxes(test.x[:n]), boxes)
    return {
        "num_samples": len(y),
        "mean_iou": iou.mean().item(),
        f"share_iou_at_least_{iou_at}": (iou >= iou_at).double().mean().item(),
        "class_agreement": (predicted == y).double().mean().item(),
        "real_mean_iou": real_iou.mean().item(),  # the measurement on the real canvases: its own ceiling
        f"real_share_iou_at_least_{iou_at}": (real_iou >= iou_at).double().mean().item(),
        "real_class_agreement": (real == y).double().mean().item(),
    }


def _crop(x: torch.Tensor, boxes: torch.Tensor, size: int = 28) -> torch.Tensor:
    """The square around each box's centre with side the box's longer side (a garment's 28 x 28 framing),
    resized to size x size, by one affine grid_sample (outside the canvas: background -1)."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2 * 2 - 1  # [N, 2] in [-1, 1]
    half = (boxes[:, 2:] - boxes[:, :2]).max(1).values * 1.1  # a margin, as a 28 x 28 image leaves around its object
    theta = torch.zeros(len(x), 2, 3)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = half, half, centre
    grid = F.affine_grid(theta, [len(x), 1, size, size], align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False) - 1
