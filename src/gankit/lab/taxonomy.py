"""``taxonomy``: the lectures' taxonomy of generative models, measured side by side on one test split per dataset.

Explicit and tractable: the gated PixelCNN (van den Oord et al. 2016; exact test NLL). Explicit and approximate:
the VAE (Kingma & Welling 2014; the ELBO and the IWAE bound of Burda et al. 2016 with ``k`` samples). Explicit,
"not complex enough for images": a GMM (EM on principal components, completed by an isotropic Gaussian on the
discarded directions; a continuous density on uniformly dequantised pixels, which bounds the discrete likelihood,
Theis et al. 2016). Implicit: a GAN (DCGAN; no likelihood). Datasets: stochastically binarised MNIST-5k (4,000
training images, 1,000 test), stochastically binarised Fashion-MNIST and 8-bit Fashion-MNIST.

Per model: test NLL in nats per image and bits per dimension (exact, or the bound's), samples per second (one batch
of the scored samples) and the network passes per sample, training seconds; FID (Heusel et al. 2017) and improved
precision/recall (Kynkäänniemi et al. 2019, k = 3) of ``score_n`` samples (``pixelcnn_n`` for the PixelCNN, 784
passes each) against the scored test images, on the shipped classifier's features (MNIST's or Fashion-MNIST's)
and, with ``inception = N``, on the FID Inception's for the first N samples and N test images; beside them a
yardstick row of real training images scored the same way. Hyper-parameters: the presets' (PixelCNN, VAE, DCGAN),
untuned; the GMM's K and PCA size are chosen by the likelihood of a validation split carved from the training
images. The test split is read once, at the end. :mod:`gankit.lab.taxonomy_report` writes the table and figure.

``gankit lab taxonomy`` runs the :data:`QUICK` budget (about 10 CPU minutes; runs kept in OUT/runs, re-scored when
run again); ``--quick`` the :data:`SMOKE` budget (seconds: a check, not a result); ``benchmarks/taxonomy.py`` the
same code with every budget, the presets' full steps and IWAE k = 5000 among them.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from pathlib import Path

import torch

from gankit.lab.registry import register_experiment
from gankit.lab.runs import hardware, train_once

# (name, dataset, binarised?) and the presets trained on each
SETTINGS = [("binary mnist-5k", "mnist-5k", True), ("binary fashion-mnist", "fashion-mnist", True),
            ("8-bit fashion-mnist", "fashion-mnist", False)]  # fmt: skip


@dataclasses.dataclass
class Budget:
    """How long each model trains (``overrides`` of its preset, per model) and how much of it is scored."""

    name: str  # "full", "quick" or "smoke": the results' file suffix and the runs folder
    overrides: dict[str, list[str]]
    k: int = 5000  # IWAE samples (Burda et al. 2016 report k = 5000)
    chunk: int = 100  # IWAE samples per decoder pass
    test_size: int | None = None  # test images per dataset (None: all)
    score_n: int = 5000  # samples per model for FID and precision / recall
    pixelcnn_n: int = 1000  # the PixelCNN's samples, drawn pixel by pixel
    inception: int = 0  # also score the first N samples on the FID Inception's features (0: off)
    grid: int = 36  # samples per model in the figure
    gmm_max_train: int = 10_000  # EM and PCA on at most this many training images (a random subset)
    gmm_grid: tuple[tuple[int, int], ...] = ((5, 20), (5, 60), (20, 20), (20, 60))  # (K, PCs), chosen on validation
    gan_run: str | None = None  # a trained GAN run on Fashion-MNIST to score in place of the DCGAN preset's
    progress: bool = False


FULL = Budget("full", {"pixelcnn": [], "vae": [], "gan": []})
# The PixelCNNs were most of the CPU time (300 steps of 784-pixel NLLs, and 64 previews drawn pixel by pixel at the
# end of training); a step at width 24 costs 0.7 (8-bit) to 0.9 (binary) of one at width 32; one 16-image preview.
QUICK = Budget(
    "quick",
    {"pixelcnn": ["train.steps=300", "pixelcnn.layers=5", "pixelcnn.width=24", "train.num_samples=16"],
     "vae": ["train.steps=1000", "vae.width=32"], "gan": ["train.steps=500"]},  # fmt: skip
    k=200, test_size=1000, score_n=500, pixelcnn_n=200,
)  # fmt: skip
# Every step in seconds (a check of the code, not a result): tiny models at 2 steps, 4 samples per grid, 20 test
# images, IWAE k = 2, a two-point GMM grid on 500 training images.
SMOKE = Budget(
    "smoke",
    {"pixelcnn": ["train.steps=2", "pixelcnn.layers=2", "pixelcnn.width=8", "pixelcnn.first_kernel=3",
                  "train.num_samples=1"],
     "vae": ["train.steps=2", "vae.width=8", "train.num_samples=4"],
     "gan": ["train.steps=2", "model.g_width=8", "model.d_width=8", "train.batch_size=16"]},  # fmt: skip
    k=2, chunk=2, test_size=20, score_n=8, pixelcnn_n=6, grid=4, gmm_max_train=500, gmm_grid=((2, 5), (3, 5)),
)  # fmt: skip


def data_overrides(dataset: str, binary: bool) -> list[str]:
    return [f"data.name={dataset}", f"data.binarize={'stochastic' if binary else 'null'}"]


def timed_samples(sample, n: int) -> tuple[torch.Tensor, float]:
    """``n`` samples and the samples per second of drawing them (one batch)."""
    t = time.perf_counter()
    x = sample(n)
    return x, n / (time.perf_counter() - t)


def nll_row(model: str, nll: torch.Tensor, dims: int, kind: str, **extra) -> dict:
    mean = float(nll.mean())
    return {"model": model, "nll_nats": mean, "nll_se": float(nll.std() / math.sqrt(len(nll))),
            "bits_per_dim": mean / (dims * math.log(2)), "kind": kind, **extra}  # fmt: skip


def pixelcnn_row(name: str, dataset: str, binary: bool, test, runs: Path, b: Budget) -> tuple[dict, torch.Tensor]:
    from gankit.train.restore import load_method

    preset = "pixelcnn-mnist-5k" if dataset == "mnist-5k" else "pixelcnn-fashion-mnist"
    overrides = data_overrides(dataset, binary) + [f"pixelcnn.likelihood={'bernoulli' if binary else 'categorical'}"]
    run = runs / f"pixelcnn-{name.replace(' ', '-')}"
    t = train_once(preset, run, overrides + b.overrides["pixelcnn"], b.progress)
    method, _ = load_method(run)
    method.progress = b.progress
    nll = method.nll(test)
    z = torch.randn(b.pixelcnn_n, method.z_dim, generator=torch.Generator().manual_seed(0))
    x, rate = timed_samples(lambda n: method.sample(z[:n]), b.pixelcnn_n)
    row = nll_row("PixelCNN", nll, test[0].numel(), "exact", samples_per_s=rate, passes_per_sample=method.z_dim,
                  train_seconds=t.get("seconds"), steps=t.get("steps"))  # fmt: skip
    return row, x


def vae_rows(name: str, dataset: str, test, runs: Path, b: Budget) -> tuple[list[dict], torch.Tensor]:
    from gankit.losses.likelihood import vae_bounds
    from gankit.train.restore import load_method

    run = runs / f"vae-{name.replace(' ', '-')}"
    t = train_once("vae-fashion-mnist", run, data_overrides(dataset, True) + b.overrides["vae"], b.progress)
    method, _ = load_method(run)
    method.encoder.eval(), method.decoder.eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        bounds = [vae_bounds(method.encoder, method.decoder, xb, b.k, chunk=b.chunk, generator=g)
                  for xb in test.split(100)]  # fmt: skip
        z = torch.randn(b.score_n, method.z_dim, generator=torch.Generator().manual_seed(0))
        x, rate = timed_samples(lambda n: method.sample(z[:n]), b.score_n)
    elbo, iwae = torch.cat([c[0] for c in bounds]), torch.cat([c[1] for c in bounds])
    common = {"samples_per_s": rate, "passes_per_sample": 1, "train_seconds": t.get("seconds"), "steps": t.get("steps")}
    dims = test[0].numel()
    return [nll_row("VAE (ELBO)", -elbo, dims, "bound", **common),
            nll_row(f"VAE (IWAE, k={b.k})", -iwae, dims, "bound", **common)], x  # fmt: skip


def gmm_row(train: torch.Tensor, test: torch.Tensor, levels: int, b: Budget) -> tuple[dict, torch.Tensor]:
    """The GMM's dequantisation bound: log P(x) >= E_u log p((k + u) / L) - D log L, one draw of u per image."""
    from gankit.losses.likelihood import dequantize, pca_gmm_log_density, pca_residual_variance
    from gankit.methods.gmm import GMMGenerator

    g = torch.Generator().manual_seed(0)
    train = train[torch.randperm(len(train), generator=g)[: b.gmm_max_train]]
    y = dequantize(train, levels, g)
    perm = torch.randperm(len(y), generator=g)
    fit_part, val_part = y[perm[len(y) // 10 :]], y[perm[: len(y) // 10]]
    dims = train[0].numel()
    t = time.perf_counter()
    scores = {}
    for k, p in b.gmm_grid:  # choose K and the PCA size by the validation likelihood
        gmm = GMMGenerator(k, pca_components=p, seed=0).fit(fit_part)
        scores[(k, p)] = float(pca_gmm_log_density(gmm, val_part, pca_residual_variance(gmm, fit_part)).mean())
    k, p = max(scores, key=scores.__getitem__)
    gmm = GMMGenerator(k, pca_components=p, seed=0).fit(y)
    s2 = pca_residual_variance(gmm, y)
    seconds = time.perf_counter() - t
    log_p = pca_gmm_log_density(gmm, dequantize(test, levels, g), s2) - dims * math.log(levels)
    x, rate = timed_samples(lambda m: gmm.sample_n(m, seed=0), b.score_n)
    row = nll_row(f"GMM (K={k}, {p} PCs)", -log_p, dims, "bound", samples_per_s=rate, passes_per_sample=1,
                  train_seconds=seconds, validation={f"K={a},PCs={c}": v for (a, c), v in scores.items()})  # fmt: skip
    return row, (x * 2 - 1).clamp(-1, 1)  # [0, 1] -> gankit's [-1, 1]


def gan_row(runs: Path, b: Budget) -> tuple[dict, torch.Tensor]:
    from gankit.train.restore import load_method

    run = Path(b.gan_run) if b.gan_run else runs / "gan-8-bit-fashion-mnist"
    t = {} if b.gan_run else train_once("dcgan-fashion-mnist", run, b.overrides["gan"], b.progress)
    method, cfg = load_method(run)
    z = torch.randn(b.score_n, method.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x, rate = timed_samples(lambda n: method.sample(z[:n]), b.score_n)
    row = {"model": f"GAN ({cfg.model.arch})", "nll_nats": None, "bits_per_dim": None, "kind": "none",
           "samples_per_s": rate, "passes_per_sample": 1, "train_seconds": t.get("seconds"),
           "steps": t.get("steps")}  # fmt: skip
    return row, x


def cached_features(ex, x: torch.Tensor, path: Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Features (and class probabilities) of reference images, kept in ``path`` as the metrics' reference cache
    does (the Inception's few images per second make them worth keeping between runs)."""
    from safetensors.torch import load_file, save_file

    from gankit.metrics.extractors import extract

    if path.is_file():
        t = load_file(str(path))
        if len(t["features"]) == len(x):
            return t["features"], t.get("probs")
    f, probs = extract(ex, x)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"features": f.contiguous(), **({"probs": probs.contiguous()} if probs is not None else {})}, str(path))
    return f, probs


def references(name: str, dataset: str, test: torch.Tensor, runs: Path, b: Budget) -> dict:
    """Per extractor: (extractor, features, probabilities) of the scored test images (the first ``b.inception``
    of them for the Inception); the shipped classifier is the dataset's own (MNIST's or Fashion-MNIST's)."""
    from gankit.metrics.extractors import default_extractor, extract, get_extractor

    ex = get_extractor(default_extractor(dataset))
    refs = {"classifier": (ex, *extract(ex, test))}
    if b.inception:
        inc = get_extractor("inception")
        path = runs / "reference" / f"{name.replace(' ', '-')}-{inc.key}-n{b.inception}.safetensors"
        refs["inception"] = (inc, *cached_features(inc, test[: b.inception], path))
    return refs


def sample_scores(x: torch.Tensor, refs: dict, inception_n: int) -> dict:
    """FID and precision/recall (k = 3) of samples ``x`` in [-1, 1] against each extractor's reference features,
    through gankit's score registry (the numbers ``gankit evaluate`` would give on these features)."""
    from gankit.metrics.extractors import extract
    from gankit.metrics.scoring import FeatureSet, score_features

    out = {}
    for key, (ex, real, real_probs) in refs.items():
        n = len(x) if key == "classifier" else min(len(x), inception_n)
        fake, fake_probs = extract(ex, x[:n].float().clamp(-1, 1))
        s = score_features(FeatureSet(real, real_probs, fake, fake_probs), ["fid", "pr"])
        out[key] = {"n": n, "ref_n": len(real), "fid": s["fid"], "precision": s["precision"], "recall": s["recall"]}
    return out


def measure(b: Budget, runs: Path) -> tuple[dict, dict]:
    """Train (or re-score) every model of every setting; the results dict and the sample grids by (setting, model)."""
    from gankit.config import DataConfig
    from gankit.data import load_from_config

    torch.manual_seed(0)
    start, cpu_start = time.perf_counter(), time.process_time()
    results: dict = {"hardware": hardware(), "budget": b.name, "quick": b.name != "full", "overrides": b.overrides,
                     "k": b.k, "settings": {}, "test_size": {}, "train_size": {}, "score_n": b.score_n,
                     "pixelcnn_n": b.pixelcnn_n, "inception_n": b.inception, "score_cpu_seconds": 0.0}  # fmt: skip
    grids: dict = {}
    for name, dataset, binary in SETTINGS:
        cfgs = [DataConfig(name=dataset, split=s, binarize="stochastic" if binary else None) for s in ("train", "test")]
        train, test = load_from_config(cfgs[0]).x, load_from_config(cfgs[1]).x[: b.test_size]
        results["test_size"][name], results["train_size"][name] = len(test), len(train)
        shown = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[: b.grid]  # mnist-5k: sorted
        grids[(name, "test images")] = test[shown]
        refs = references(name, dataset, test, runs, b)
        real = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[: b.score_n]]
        rows: list[dict] = []

        def scored(new_rows: list[dict], x: torch.Tensor, model: str, cpu: float, refs=refs, name=name, rows=rows):
            """Score the samples, keep a grid of them, and add the rows with this model's CPU seconds."""
            t = time.process_time()
            scores = sample_scores(x, refs, b.inception)
            grids[(name, model)] = x[: b.grid]
            results["score_cpu_seconds"] += time.process_time() - t  # once per model (the VAE has two rows)
            rows.extend({**r, "scores": scores, "cpu_seconds": time.process_time() - cpu} for r in new_rows)

        cpu = time.process_time()  # this process's CPU seconds per model (training runs in process): the profile
        row, x = pixelcnn_row(name, dataset, binary, test, runs, b)
        scored([row], x, "PixelCNN", cpu)
        if binary:  # the Bernoulli VAE is a likelihood of binary images only
            cpu = time.process_time()
            new_rows, x = vae_rows(name, dataset, test, runs, b)
            scored(new_rows, x, "VAE", cpu)
        cpu = time.process_time()
        row, x = gmm_row(train, test, 2 if binary else 256, b)
        scored([row], x, "GMM", cpu)
        if not binary:
            cpu = time.process_time()
            row, x = gan_row(runs, b)
            scored([row], x, "GAN", cpu)
        cpu = time.process_time()  # the yardstick: real images the models never saw, scored as the samples are
        yardstick = {"model": "real training images", "nll_nats": None, "bits_per_dim": None, "kind": "data",
                     "samples_per_s": None, "passes_per_sample": None}  # fmt: skip
        scored([yardstick], real, "real", cpu)
        results["settings"][name] = rows
        print(f"{name}: {[(r['model'], r['nll_nats']) for r in rows]}", file=sys.stderr, flush=True)
    results["wall_seconds"] = time.perf_counter() - start
    results["cpu_seconds"] = time.process_time() - cpu_start  # user + system of this process: wall / cpu = sharing
    return results, grids


def headline(results: dict) -> dict:
    """The best (lowest) test NLL per setting and the model holding it; the best classifier FID and its model."""
    out = {}
    for name, rows in results["settings"].items():
        models = [r for r in rows if r["kind"] != "data"]
        best_nll = min((r for r in models if r["nll_nats"] is not None), key=lambda r: r["nll_nats"])
        best_fid = min(models, key=lambda r: r["scores"]["classifier"]["fid"])
        out[name] = {"best_nll": f"{best_nll['model']} {best_nll['nll_nats']:.2f} nats",
                     "best_fid": f"{best_fid['model']} {best_fid['scores']['classifier']['fid']:.1f}"}  # fmt: skip
    return out


@register_experiment("taxonomy", headline=("best",), summary="PixelCNN, VAE, GMM and GAN: likelihoods, FID, speed")
def run(out: Path, quick: bool = False) -> dict:
    from gankit.lab.taxonomy_report import figure, table

    b = dataclasses.replace(SMOKE if quick else QUICK, progress=not quick)
    results, grids = measure(b, out / "runs")
    figure(grids, out / "taxonomy.png")
    (out / "table.md").write_text(table(results))
    return {**results, "best": headline(results), "figures": ["taxonomy.png"], "tables": ["table.md"]}
