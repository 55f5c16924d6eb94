"""``gmm-vs-gan``: a GMM fitted by EM can be sampled, but it is not rich enough for images.

Seed lecture 000 (GMM fitted by EM and sampled, then GANs). On the toys (``ring``, ``grid``, ``moons``,
``spiral``) a GMM (:class:`gankit.methods.gmm.GMMGenerator`, scikit-learn's EM) and a plain GAN are
trained on the same data and their samples drawn side by side; on ``ring`` and ``grid`` the mode metrics
compare them. On Fashion-MNIST a GMM is fitted after PCA and sampled: the samples are blurry averages
with speckle noise, because each component is one Gaussian blob of images around a mean image.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.data import load_dataset
from gankit.data.toy import get_toy
from gankit.errors import UserError
from gankit.lab.registry import register_experiment
from gankit.lab.common import plt, savefig
from gankit.lab.toytrain import REMEDIES, generate, toy_config, train_toy
from gankit.methods.gmm import GMMGenerator
from gankit.metrics.modes import NUM_SAMPLES, toy_mode_metrics

TOYS = {"ring": 8, "grid": 25, "moons": 20, "spiral": 30}  # toy -> GMM components
LIMITS = {
    "ring": (-1.5, 1.5, -1.5, 1.5),
    "grid": (-5.5, 5.5, -5.5, 5.5),
    "moons": (-1.4, 2.4, -1.0, 1.5),
    "spiral": (-2.3, 2.3, -2.3, 2.3),
}
PCA_COMPONENTS, FMNIST_COMPONENTS, FMNIST_TRAIN = 50, 20, 20_000


def _fashion(out: Path, quick: bool) -> dict:
    from gankit.images import make_grid

    try:
        data = load_dataset("fashion-mnist", split="train")
    except UserError as e:
        return {"skipped": str(e)}
    x = data.x[: 1000 if quick else FMNIST_TRAIN]
    gmm = GMMGenerator(3 if quick else FMNIST_COMPONENTS, pca_components=PCA_COMPONENTS, seed=0).fit(x)
    assert gmm.pca_ is not None  # fitted with pca_components
    samples = gmm.sample_n(32, seed=0).clamp(-1, 1)
    real = x[:32]
    pca_only = (
        torch.as_tensor(gmm.pca_.inverse_transform(gmm.pca_.transform(real.reshape(32, -1).double().numpy())))
        .float()
        .reshape(real.shape)
    )
    pyplot = plt()
    fig, axes = pyplot.subplots(1, 3, figsize=(13, 3.0), layout="constrained")  # constrained: no gap under the suptitle
    for ax, imgs, title in zip(
        axes,
        [real, pca_only.clamp(-1, 1), samples],
        [
            "real Fashion-MNIST images",
            f"the same, projected on {PCA_COMPONENTS} principal components",
            f"GMM samples ({gmm.n_components} components, EM, after PCA)",
        ],
    ):
        g = make_grid(imgs, nrow=8)
        ax.imshow(((g[0] + 1) / 2).numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("pixels (28 x 28 per image)")
        ax.set_ylabel("pixels")
    fig.suptitle(
        f"A GMM on Fashion-MNIST: blurry mean-like shapes with pixel noise "
        f"({gmm.pca_.explained_variance_ratio_.sum():.0%} of the variance kept by PCA)",
        fontsize=10,
    )
    return {
        "pca_components": PCA_COMPONENTS,
        "gmm_components": gmm.n_components,
        "explained_variance": float(gmm.pca_.explained_variance_ratio_.sum()),
        "train_images": len(x),
        "figure": savefig(fig, out / "gmm_fashion_mnist.png"),
    }


@register_experiment(
    "gmm-vs-gan", headline=("modes",), summary="GMM (EM) vs GAN samples; a GMM on Fashion-MNIST after PCA"
)
def run(out: Path, quick: bool = False) -> dict:
    samples, metrics = {}, {}
    for name, k in TOYS.items():
        toy = get_toy(name)
        data = load_dataset(name).x
        gmm = GMMGenerator(k, seed=0, n_init=1 if quick else 3).fit(data[: 5000 if quick else 20000])
        cfg = toy_config(name, REMEDIES["GAN"] + (["train.steps=20"] if quick else []))
        gan = train_toy(cfg).method
        samples[name] = {
            "data": toy.sample(NUM_SAMPLES, seed=7),
            "GMM (EM)": generate(gmm, NUM_SAMPLES, seed=0),
            "GAN": generate(gan, NUM_SAMPLES, seed=0),
        }
        if name in ("ring", "grid"):
            metrics[name] = {m: toy_mode_metrics(samples[name][m], toy) for m in ("GMM (EM)", "GAN")}
    pyplot = plt()
    fig, axes = pyplot.subplots(3, len(TOYS), figsize=(3.3 * len(TOYS), 9.5), squeeze=False)
    for c, name in enumerate(TOYS):
        x0, x1, y0, y1 = LIMITS[name]
        for r, (label, x) in enumerate(samples[name].items()):
            ax = axes[r, c]
            ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.3, c=f"C{r}", label=label)
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            ax.set_aspect("equal")
            extra = ""
            if name in metrics and label in metrics[name]:
                m = metrics[name][label]
                extra = f"\n{m['modes']:.0f}/{TOYS[name]} modes, {100 * m['high_quality']:.1f}% high quality"
            ax.set_title(f"{name}: {label}{extra}", fontsize=8)
            ax.set_xlabel("x1 (data units)", fontsize=7)
            ax.set_ylabel("x2 (data units)", fontsize=7)
            ax.legend(fontsize=6, loc="lower right", markerscale=3)
    fig.suptitle("Data, a GMM fitted by EM, and a plain GAN (2,500 samples each)", fontsize=11)
    fig.tight_layout()
    figures = [savefig(fig, out / "gmm_vs_gan_toys.png")]
    fashion = _fashion(out, quick)
    if "figure" in fashion:
        figures.append(fashion["figure"])
    headline = {name: {m: v["modes"] for m, v in ms.items()} for name, ms in metrics.items()}
    return {"modes": headline, "metrics": metrics, "fashion_mnist": fashion, "figures": figures}
