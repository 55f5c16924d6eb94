"""The taxonomy's table (markdown) and figure (a grid of samples per model and dataset): :mod:`gankit.lab.taxonomy`."""

from __future__ import annotations

import math
from pathlib import Path

from gankit.lab.taxonomy import SETTINGS

NOT_DEFINED = {"VAE": "no 8-bit likelihood\n(Bernoulli decoder)", "GAN": "not trained on\nbinary images"}
PUBLISHED = {
    "binary mnist-5k": [
        ("PixelCNN (van den Oord et al. 2016, Table 4; binarised MNIST, 60,000 training images)", 81.30),
        ("VAE, one stochastic layer (Burda et al. 2016, Table 1; k = 5000; 60,000 training images)", 86.76),
    ]
}


def figure(grids: dict, path: Path) -> None:
    """One panel per (dataset, model): a grid of samples, beside the test images."""
    from gankit.images import make_grid
    from gankit.lab.common import plt

    pyplot = plt()
    models = ["test images", "PixelCNN", "VAE", "GMM", "GAN"]
    fig, axes = pyplot.subplots(len(SETTINGS), len(models), figsize=(2.6 * len(models), 2.8 * len(SETTINGS)))
    for i, (name, _, _) in enumerate(SETTINGS):
        for j, model in enumerate(models):
            ax = axes[i, j]
            ax.set_xticks([]), ax.set_yticks([])
            x = grids.get((name, model))
            if x is None:
                ax.text(0.5, 0.5, NOT_DEFINED.get(model, "—"), ha="center", va="center", fontsize=9)
            else:
                grid = ((make_grid(x.float(), nrow=math.ceil(math.sqrt(len(x))))[0] + 1) / 2).clamp(0, 1)
                ax.imshow(grid.numpy(), cmap="gray", vmin=0, vmax=1)
            if i == 0:
                ax.set_title(model)
            if j == 0:
                ax.set_ylabel(name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot.close(fig)


def score_cells(r: dict, extractors: list[str]) -> list[str]:
    """Table cells of a row's scores: n, then FID and precision / recall per extractor (— where not scored)."""
    scores = r.get("scores", {})
    ns = "/".join(str(scores[e]["n"]) for e in extractors if e in scores) or "—"
    cells = [ns]
    for e in extractors:
        sc = scores.get(e)
        cells += ["—", "—"] if sc is None else [f"{sc['fid']:.1f}", f"{sc['precision']:.2f} / {sc['recall']:.2f}"]
    return cells


def _fmt(value, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def table(results: dict) -> str:
    """The markdown table of :func:`gankit.lab.taxonomy.measure`'s results, one section per dataset."""
    inception = results.get("inception_n")
    extractors = ["classifier"] + (["inception"] if inception else [])
    head = "".join(f" FID ({e}) | P / R ({e}) |" for e in extractors)
    overrides = results["overrides"] if results["quick"] else "none"
    lines = [f"Hardware: {results['hardware']}", "",
             f"Wall clock {results['wall_seconds'] / 60:.1f} min, CPU time (user + system) "
             f"{results['cpu_seconds'] / 60:.1f} min, of which scoring samples {results['score_cpu_seconds'] / 60:.1f}"
             f" min; budget {results['budget']}, overrides: {overrides}", "",
             f"FID and precision / recall (k = 3) of n samples per model ({results['score_n']}; the PixelCNN's "
             f"{results['pixelcnn_n']}, drawn pixel by pixel" + ("; n = classifier/Inception" if inception else "")
             + ") against the test images (all of the table's for the classifier"
             + (f", the first {inception} for the Inception" if inception else "")
             + "); the classifier is the dataset's shipped one; samples/s: one batch of the n samples", ""]  # fmt: skip
    for name, rows in results["settings"].items():
        lines += [f"### {name} (test: {results['test_size'][name]} images)", "",
                  f"| model | test NLL (nats/image) | bits/dim | kind | samples/s | passes/sample | n |{head} train s "
                  "| CPU s |",
                  "| --- " * (9 + 2 * len(extractors)) + "|"]  # fmt: skip
        for r in rows:
            nll = "—" if r["nll_nats"] is None else f"{r['nll_nats']:.2f} ± {r['nll_se']:.2f}"
            passes = "—" if r.get("passes_per_sample") is None else str(r["passes_per_sample"])
            cells = [r["model"], nll, _fmt(r["bits_per_dim"], ".3f"), r["kind"], _fmt(r.get("samples_per_s"), ".1f"),
                     passes, *score_cells(r, extractors), _fmt(r.get("train_seconds"), ".0f"),
                     _fmt(r.get("cpu_seconds"), ".0f")]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
        for label, value in PUBLISHED.get(name, []):
            lines.append(f"| published: {label} | {value:.2f} | {value / (784 * math.log(2)):.3f} |"
                         + " |" * (6 + 2 * len(extractors)))  # fmt: skip
        if PUBLISHED.get(name):
            steps = {r["model"].split(" ")[0]: r.get("steps") for r in rows}
            lines += ["", f"Our budget beside the published rows: {results['train_size'][name]:,} training images, "
                      f"PixelCNN {steps.get('PixelCNN')} steps of 32 images, VAE {steps.get('VAE')} steps of 64 "
                      "(the presets' batches), CPU seconds as in the table; the published models train to "
                      "convergence on 60,000 images."]  # fmt: skip
        lines.append("")
    return "\n".join(lines)
