"""The lab: the lectures' claims about GANs as runnable experiments, each with figures and numbers.

``run_experiment(name, out)`` runs one experiment, writes ``out/result.json`` and its PNG (and GIF)
figures, and returns the result dict. The experiments (``gankit lab NAME``):

- ``optimal-d``  D trained to convergence against a fixed G equals p_data / (p_data + p_g)  -> ``max_gap``
- ``jsd``        V(D*, G) = -log 4 + 2 JSD(p_data || p_g) over a family of generators    -> ``relative_error``
- ``saturation`` log(1 - D(G(z))) gives G almost no gradient when D wins; -log D(G(z)) does -> ``ratio``
- ``collapse``   samples over training on ring and grid, plain GAN vs the remedies (GIF + still grid)
- ``gmm-vs-gan`` GMM (EM) and GAN samples side by side; a GMM on Fashion-MNIST after PCA
- ``k-steps``    k D steps per G step: D's distance to D* and G's quality, equal steps and equal time -> ``d_gap``
- ``bn-leak``    batch norm lets D tell real from fake batches, not samples; the remedies -> ``batchnorm_batch_acc``
- ``d-too-strong`` a D that wins early: the gradient reaching G under each remedy of the slide -> ``min_ratio``
- ``blurry-mean`` bimodal p(y|x): L2 predicts the mean between the modes, an adversarial loss a mode
                  -> ``adversarial_near_mode``
- ``taxonomy``   PixelCNN, VAE, GMM and GAN side by side: test likelihoods, FID, precision/recall, samples/s -> ``best``

Adding an experiment: a module with ``run(out: Path, quick: bool) -> dict`` decorated with
``@register_experiment("name", headline=[keys])``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from gankit.errors import UserError
from gankit.lab.registry import EXPERIMENTS, Experiment, register_experiment


# The experiment modules, imported on first use (each registers itself); one line per experiment.
EXPERIMENT_MODULES = (
    "optimal_d",
    "jsd",
    "saturation",
    "collapse",
    "gmm_vs_gan",
    "k_steps",
    "bn_leak",
    "d_too_strong",
    "blurry_mean",
    "taxonomy",
)


def _load_all() -> None:
    for name in EXPERIMENT_MODULES:
        importlib.import_module(f"gankit.lab.{name}")


def experiment_names() -> list[str]:
    _load_all()
    return sorted(EXPERIMENTS)


def run_experiment(name: str, out: str | Path | None = None, *, quick: bool = False) -> dict:
    """Run a lab experiment and write ``out/result.json`` plus its figures.

    Args:
        name: one of :func:`experiment_names` (``optimal-d``, ``jsd``, ``saturation``, ``collapse``, ``gmm-vs-gan``).
        out: the output folder (default ``lab/<name>``).
        quick: a much shorter run (for tests and smoke checks): the figures are made, the numbers are rough.

    Returns:
        The result dict (also in ``out/result.json``); ``result["figures"]`` lists the files written.

    Example:
        >>> r = run_experiment("saturation", "/tmp/lab-sat")  # doctest: +SKIP
        >>> r["ratio"] >= 10
        True
    """
    _load_all()
    if name not in EXPERIMENTS:
        raise UserError(f"unknown lab experiment '{name}' (known: {', '.join(sorted(EXPERIMENTS))})")
    out = Path(out) if out is not None else Path("lab") / name
    out.mkdir(parents=True, exist_ok=True)
    result = {"experiment": name, "quick": quick} | EXPERIMENTS[name].run(out, quick=quick)
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


__all__ = ["EXPERIMENTS", "Experiment", "experiment_names", "register_experiment", "run_experiment"]
