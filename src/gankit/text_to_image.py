"""Text to image with a trained GAN-CLS run (:mod:`gankit.methods.gancls`): sampling from captions, and the
scores of docs/text-and-location.md on the held-out captions.

- :func:`sample_captions`: n images per caption, the same n latents under every caption (a row per caption).
- :func:`held_out_captions`: every caption the held-out phrasings make (:data:`gankit.data.captions.
  HELD_OUT_TEMPLATES`), with the class and attribute levels it names; none of them is a training caption.
- :func:`text_scores`: class agreement (the shipped Fashion-MNIST classifier's verdict on each image against
  the class its caption names) and attribute agreement (the measured brightness or size on the named side of
  the class's median, :func:`gankit.data.captions.attribute_agreement`), overall and on the held-out
  combinations of class, brightness and size.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.data.captions import (
    CLASS_WORDS,
    HELD_OUT_COMBOS,
    HELD_OUT_TEMPLATES,
    attribute_agreement,
    captions_for,
    class_statistics,
    describe,
    encode_captions,
    measure_attributes,
)
from gankit.errors import UserError

CHUNK = 500  # images per call of the generator


def _load_text_generator(run_dir: str | Path, device: str):
    from gankit.train.restore import load_generator

    method, cfg = load_generator(run_dir, device)
    if cfg.method != "gancls":
        raise UserError(f"--text: the {cfg.method} run {run_dir} takes no captions; sampling from text needs a "
                        "method: gancls run")  # fmt: skip
    return method


def sample_captions(
    run_dir: str | Path, captions: list[str], n: int = 8, seed: int = 0, device: str = "cpu"
) -> torch.Tensor:
    """``n`` samples for each caption (len(captions) * n images in [-1, 1], caption by caption), the same ``n``
    latents (seeded) under every caption, so that a grid of n columns compares captions at fixed z.

    Raises:
        UserError: the run is not a GAN-CLS run, or a caption is empty or has a word outside the vocabulary.
    """
    if not captions:
        raise UserError("--text: no caption given (an empty --text-file?)")
    tokens = encode_captions(captions)  # a one-line error naming an unknown word before the run is loaded
    method = _load_text_generator(run_dir, device)
    z = torch.randn(n, method.z_dim, generator=torch.Generator().manual_seed(seed))
    return torch.cat([method.sample(z, t.expand(n, -1)) for t in tokens]).cpu()


def read_caption_file(path: str | Path) -> list[str]:
    """The captions of a text file, one a line; blank lines and lines starting with # are skipped."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as e:
        raise UserError(f"--text-file {path}: cannot read it ({e.strerror})") from None
    return [s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#")]


def held_out_captions() -> list[tuple[str, int, int, int]]:
    """Every caption of the held-out phrasings, sorted, with the (class, brightness level, size level) it names."""
    captions = {c for k in range(len(CLASS_WORDS)) for b in range(3) for s in range(3)
                for c in captions_for(k, b, s, HELD_OUT_TEMPLATES)}  # fmt: skip
    out = []
    for c in sorted(captions):
        k, b, s = describe(c)
        assert k is not None
        out.append((c, k, b, s))
    return out


@torch.no_grad()
def text_scores(
    run_dir: str | Path, per_caption: int = 4, seed: int = 0, device: str = "cpu",
    captions: list[tuple[str, int, int, int]] | None = None,
) -> dict:
    """Scores of a GAN-CLS run on :func:`held_out_captions` (or ``captions``, rows of (caption, class, brightness
    level, size level) such as :func:`gankit.data.captions.validation_captions`), ``per_caption`` seeded latents
    each.

    Returns:
        ``class_agreement`` (share of images the shipped classifier puts in the captioned class),
        ``brightness_agreement``, ``size_agreement`` (share of images whose caption names that attribute with
        the measured value on the named side of the real class median) and the number of images each counts,
        the same three on the held-out combinations alone (``held_out_combo_*``), ``num_captions``, and
        ``class_agreement_by_class`` (K shares, one per captioned class).
    """
    from gankit.metrics.classifier_training import load_classifier, shipped_path

    method = _load_text_generator(run_dir, device)
    rows = held_out_captions() if captions is None else captions
    tokens = encode_captions([r[0] for r in rows]).repeat_interleave(per_caption, 0)
    named = torch.tensor([r[1:] for r in rows]).repeat_interleave(per_caption, 0)  # [M, 3]: class, b, s
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(len(tokens), method.z_dim, generator=g)
    images = torch.cat([method.sample(zc, tc) for zc, tc in zip(z.split(CHUNK), tokens.split(CHUNK))]).cpu()
    classifier, _ = load_classifier(shipped_path("fashion-mnist-classifier"))
    predicted = torch.cat([classifier(x).argmax(1) for x in images.split(CHUNK)])
    y, levels = named[:, 0], named[:, 1:]
    _, medians = class_statistics()
    attributes = measure_attributes(images)
    combo = torch.tensor([HELD_OUT_COMBOS[int(k)] for k in y])  # [M, 2]
    held = (levels == combo).all(1)  # the caption names both attributes of its class's held-out pair

    def scores(mask: torch.Tensor, prefix: str) -> dict:
        (b, nb), (s, ns) = attribute_agreement(attributes[mask], y[mask], levels[mask], medians)
        return {
            f"{prefix}class_agreement": (predicted[mask] == y[mask]).double().mean().item(),
            f"{prefix}brightness_agreement": b,
            f"{prefix}size_agreement": s,
            f"{prefix}num_images": int(mask.sum()),
            f"{prefix}num_brightness": nb,
            f"{prefix}num_size": ns,
        }

    everything = torch.ones(len(y), dtype=torch.bool)
    by_class = [(predicted[y == k] == k).double().mean().item() for k in range(len(CLASS_WORDS))]
    return {"num_captions": len(rows), **scores(everything, ""), **scores(held, "held_out_combo_"),
            "class_agreement_by_class": by_class}  # fmt: skip
