"""The documented Python API. The CLI (:mod:`gankit.cli`) is a thin layer over these functions.

Example:
    >>> import gankit
    >>> cfg = gankit.load_config("dcgan-fashion-mnist", ["train.steps=200"])   # doctest: +SKIP
    >>> result = gankit.train(cfg, run_dir="runs/demo")                        # doctest: +SKIP
    >>> images = gankit.sample("runs/demo", n=16, seed=0)                      # doctest: +SKIP
    >>> images.shape
    torch.Size([16, 1, 28, 28])
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import torch

from gankit.config import RunConfig, load_config, validate
from gankit.errors import UserError
from gankit.images import save_samples_png, to_uint8
from gankit.methods import METHODS  # the built-in methods register themselves (and their config sections)
from gankit.train import TrainResult, train_run
from gankit.train.restore import load_generator, load_method, run_config


def default_run_dir(cfg_name: str) -> Path:
    """``runs/<config name>-<date>-<time>``: where a run goes without ``--run-dir``."""
    return Path("runs") / f"{cfg_name}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(cfg: RunConfig | None = None, run_dir: str | Path | None = None, *, progress: bool = True) -> TrainResult:
    """Train a model from a config (default: the embedded DCGAN on Fashion-MNIST) in a new run directory.

    Args:
        cfg: a :class:`RunConfig` (see :func:`load_config`); None for the default.
        run_dir: where to write; default ``runs/<arch or method>-<dataset>-<time>``.
        progress: show a progress bar.

    Returns:
        A :class:`TrainResult` with the run directory, last step, images/s and the last sample grid.
    """
    cfg = cfg or load_config()
    label = METHODS[cfg.method].label
    data = cfg.data.name if cfg.data.target is None else f"{cfg.data.name}-{cfg.data.target}"
    stem = f"{label(cfg) if label else cfg.method}-{data.replace(':', '-').replace('/', '-')}"
    run_dir = Path(run_dir) if run_dir else default_run_dir(stem)
    if (run_dir / "checkpoints").is_dir() and any((run_dir / "checkpoints").iterdir()):
        raise UserError(
            f"{run_dir}: already holds a run; continue it with --resume {run_dir} or choose another --run-dir"
        )
    return train_run(cfg, run_dir, resume=False, progress=progress)


def resume(run_dir: str | Path, overrides: list[str] | None = None, *, progress: bool = True) -> TrainResult:
    """Continue the run in ``run_dir`` from its newest checkpoint up to its (possibly new) step budget.

    ``overrides`` such as ``["train.steps=8000"]`` extend the budget.
    """
    return train_run(run_config(run_dir, overrides), run_dir, resume=True, progress=progress)


def sample(
    run_dir: str | Path,
    n: int = 64,
    seed: int = 0,
    device: str = "cpu",
    jacobian_truncation: float = 0.0,
    cls: int | str | None = None,
) -> torch.Tensor:
    """``n`` samples (images in [-1, 1], or toy points) from the generator of a run, reproducible by ``seed``.

    ``jacobian_truncation`` > 0 drops that fraction of latents where ||dG/dz|| is largest, the samples a
    continuous G stretches across gaps between modes (JBT, Tanielian et al. 2020; see
    :mod:`gankit.sampling.truncation`). Exact norms for latents of up to 16 dimensions, else an estimate from
    16 random directions.

    ``cls``: for a class-conditional run (``method: cgan``), every sample of this class: an index, or a name
    of the run's data spec (``sneaker``, ``Ankle boot``: case, spaces, ``-`` and ``_`` do not matter).
    """
    from gankit.sampling.truncation import truncated_latents

    method, cfg = load_generator(run_dir, device)
    k = _fixed_class(method, cfg, run_dir, cls)

    def draw(z: torch.Tensor) -> torch.Tensor:  # every sample of class k when one is asked for
        return method.sample(z) if k is None else method.sample(z, torch.full((len(z),), k, dtype=torch.long))

    if jacobian_truncation:
        probes = None if method.z_dim <= 16 else 16
        z = truncated_latents(
            draw, n, method.z_dim, jacobian_truncation, seed=seed, device=device, probes=probes, chunk=256
        )
    else:
        z = torch.randn(n, method.z_dim, generator=torch.Generator().manual_seed(seed))
    return torch.cat([draw(zb) for zb in z.split(256)]).cpu()


def _fixed_class(method, cfg: RunConfig, run_dir: str | Path, cls: int | str | None) -> int | None:
    """The index of class ``cls`` of a run's generator (None when no class is asked for); see :func:`_class_index`."""
    if cls is None:
        return None
    return _class_index(tuple(getattr(method, "classes", None) or ()), cls, f"{cfg.method} run {run_dir}")


def _class_key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch not in " -_")


def _class_index(classes: tuple[str, ...], cls: int | str, what: str) -> int:
    """The index of class ``cls`` among ``classes``: a name (``"3"`` is mnist-5k's class named 3), an index,
    or a name matched without case, spaces, ``-`` and ``_``, whole or by a ``/``-separated part (``tshirt``
    for ``T-shirt/top``). A one-line :class:`UserError` when ``what`` (a run) has no classes or none such."""
    if not classes:
        raise UserError(f"class {cls!r}: the {what} is unconditional; sampling by class needs a method: cgan run")
    text = str(cls).strip()
    exact = [i for i, name in enumerate(classes) if name.lower() == text.lower()]
    if exact:
        return exact[0]
    known = ", ".join(f"{i} {name}" for i, name in enumerate(classes))
    if re.fullmatch(r"-?\d+", text):
        if 0 <= int(text) < len(classes):
            return int(text)
        last = len(classes) - 1
        raise UserError(f"class {text}: the {what} has {len(classes)} classes, 0 to {last} (known: {known})")
    key = _class_key(text)
    for i, name in enumerate(classes):
        if key and key in (_class_key(name), *(_class_key(part) for part in name.split("/"))):
            return i
    raise UserError(f"class {text!r}: the {what} has no such class (known: {known})")


def interpolate(
    run_dir: str | Path,
    rows: int = 8,
    steps: int = 10,
    mode: str = "slerp",
    seed: int = 0,
    device: str = "cpu",
    cls: int | str | None = None,
) -> torch.Tensor:
    """``rows`` latent interpolations of ``steps`` samples each (``rows * steps`` samples, row after row)
    between random pairs of latents, reproducible by ``seed``; ``mode`` is ``slerp`` (default: keeps the
    latent norm G was trained on) or ``lerp``. See :mod:`gankit.sampling.latent`; save with
    ``save_samples(x, "walk.png", nrow=steps)``.

    ``cls``: for a class-conditional run, walk with this class fixed (an index or a name, as for
    :func:`sample`), so only z changes along a row; without it such a run's samples cycle through the classes.
    """
    from gankit.sampling.latent import interpolation_latents

    method, cfg = load_generator(run_dir, device)
    k = _fixed_class(method, cfg, run_dir, cls)
    z = interpolation_latents(rows, steps, method.z_dim, mode, seed)
    return torch.cat([method.sample(zb) if k is None else method.sample(zb, k) for zb in z.split(256)]).cpu()


def invert(
    run_dir: str | Path,
    images: torch.Tensor,
    mask: str = "none",
    steps: int = 500,
    restarts: int = 4,
    lr: float = 0.05,
    prior: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = False,
    cls: int | str | None = None,
) -> dict:
    """Find latents whose images match ``images`` (N x C x H x W in [-1, 1]) on the pixels that ``mask``
    keeps, and fill the rest from G: inversion (``mask="none"``) and inpainting (``center``, ``left``,
    ``right``, ``top``, ``bottom``, ``random:P``). See :mod:`gankit.sampling.inversion`.

    Returns a dict of tensors: ``original``, ``masked`` (hidden pixels at 0, mid-grey), ``reconstruction``
    (G(z)), ``filled`` (known pixels kept, hidden ones from G), ``z``, and per image ``known_mse``,
    ``hidden_mse`` (filled against the original on the hidden pixels) and ``hidden_mse_mean_fill`` (the
    same for a fill with the mean of the known pixels: the baseline G should beat).

    ``cls``: for a class-conditional run, search the latents of G(., y) with the class y fixed (an index or a
    name, as for :func:`sample`); without it such a run's images cycle through the classes.
    """
    from gankit.sampling.inversion import inpaint, make_mask

    method, cfg = load_generator(run_dir, device)
    k = _fixed_class(method, cfg, run_dir, cls)
    if not hasattr(method, "decode"):
        raise UserError(f"{run_dir}: this run's model has no differentiable generator to invert")
    decode = method.decode if k is None else (lambda z: method.decode(z, k))
    x = images.to(device)
    with torch.no_grad():
        out_shape = method.sample(torch.zeros(1, method.z_dim, device=device)).shape[1:]
    if tuple(x.shape[1:]) != tuple(out_shape):
        raise UserError(f"images of shape {tuple(x.shape[1:])} do not match the generator's output {tuple(out_shape)}")
    m = make_mask(mask, tuple(x.shape[1:]), seed=seed).to(device).expand_as(x)
    filled, inv = inpaint(
        decode,
        x,
        m,
        method.z_dim,
        steps=steps,
        lr=lr,
        prior=prior,
        restarts=restarts,
        seed=seed,
        progress=progress,
    )
    hidden = (1 - m).flatten(1)
    n_hidden = hidden.sum(1)
    mean_fill = (x * m).flatten(1).sum(1) / m.flatten(1).sum(1).clamp_min(1)
    hidden_mse = ((filled - x).flatten(1).pow(2) * hidden).sum(1) / n_hidden.clamp_min(1)
    baseline = ((mean_fill[:, None] - x.flatten(1)).pow(2) * hidden).sum(1) / n_hidden.clamp_min(1)
    nan = torch.full_like(hidden_mse, float("nan"))
    return {
        "original": x.cpu(),
        "masked": (x * m).cpu(),
        "reconstruction": inv.reconstruction.detach().cpu(),
        "filled": filled.detach().cpu(),
        "z": inv.z.cpu(),
        "known_mse": inv.known_mse.cpu(),
        "hidden_mse": torch.where(n_hidden > 0, hidden_mse, nan).cpu(),
        "hidden_mse_mean_fill": torch.where(n_hidden > 0, baseline, nan).cpu(),
    }


def save_samples(images: torch.Tensor, out: str | Path, nrow: int | None = None) -> Path:
    """Write samples as a PNG (a grid of images, ``nrow`` per row (default: square), or a scatter plot of
    toy points), or as raw arrays in an ``.npz`` (``images``: uint8 N x H x W x C; toy samples as
    ``points``: float32 N x D)."""
    out = Path(out)
    if out.suffix == ".npz":
        out.parent.mkdir(parents=True, exist_ok=True)
        if images.ndim == 4:
            np.savez_compressed(out, images=to_uint8(images))
        else:
            np.savez_compressed(out, points=images.float().numpy())
        return out
    if out.suffix.lower() != ".png":
        raise UserError(f"{out}: the output must end in .png or .npz")
    return save_samples_png(images, out, nrow=nrow)


def evaluate(source, against: str = "fashion-mnist:test", **kwargs) -> dict:
    """Score samples against a dataset: see :func:`gankit.evaluation.evaluate` and docs/evaluation.md."""
    from gankit.evaluation import evaluate as _evaluate

    return _evaluate(source, against, **kwargs)


def cas(run_dir: str | Path, **settings) -> dict:
    """Classification Accuracy Score of a class-conditional run (Ravuri & Vinyals 2019): see
    :func:`gankit.cas_score.cas` (``mix``, ``n``, ``epochs``, ``seed``, ``json_path``, ``progress``) and
    docs/conditional.md."""
    from gankit.cas_score import cas as _cas

    return _cas(run_dir, **settings)


def adapt(source: str, target: str, out: str | Path | None = None, **settings):
    """Domain adaptation: source only, subspace alignment, DANN and target only on a domain pair.

    A lazy wrapper (scikit-learn loads only when called) of :func:`gankit.adapt.adapt`, which documents the arguments.
    """
    from gankit.adapt import adapt as _adapt

    return _adapt(source, target, out, **settings)


__all__ = [
    "load_config",
    "validate",
    "train",
    "resume",
    "run_config",
    "load_generator",
    "load_method",
    "sample",
    "interpolate",
    "invert",
    "save_samples",
    "evaluate",
    "cas",
    "adapt",
]
