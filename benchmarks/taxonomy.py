"""The lectures' taxonomy of generative models, measured side by side on one test split per dataset.

Explicit and tractable: the gated PixelCNN (van den Oord et al. 2016; exact test NLL). Explicit and approximate:
the VAE (Kingma & Welling 2014; the ELBO and the IWAE bound of Burda et al. 2016 with ``--k`` samples). Explicit,
"not complex enough for images": a GMM (EM on principal components, completed by an isotropic Gaussian on the
discarded directions; a continuous density on uniformly dequantised pixels, which bounds the discrete likelihood,
Theis et al. 2016). Implicit: a GAN (DCGAN; no likelihood). Datasets: stochastically binarised MNIST-5k (4,000
training images, 1,000 test), stochastically binarised Fashion-MNIST and 8-bit Fashion-MNIST.

Per model: test NLL in nats per image and bits per dimension (exact, or the bound's), samples per second (one batch
of the scored samples) and the network passes per sample, training seconds; FID (Heusel et al. 2017) and improved
precision/recall (Kynkäänniemi et al. 2019, k = 3) of ``--score-n`` samples (``--pixelcnn-n`` for the PixelCNN,
784 passes each) against the scored test images, on the shipped classifier's features (MNIST's or
Fashion-MNIST's) and, with ``--inception N``, on the FID Inception's for the first N samples and N test images;
beside them a yardstick row of real training images scored the same way. Samples are scored as each model returns
them, images in [-1, 1] (the binarised rows' test images are binary; the VAE's samples are its decoder's means);
a grid of samples per model and dataset in ``taxonomy.png``.
Hyper-parameters: the presets' (PixelCNN, VAE, DCGAN), untuned; the GMM's K and PCA size are chosen by the
likelihood of a validation split carved from the training images. The test split is read once, at the end.
Writes ``results[-quick].json``, ``table[-quick].md`` and ``taxonomy[-quick].png`` to ``--out``; prints the JSON.

    OMP_NUM_THREADS=1 python benchmarks/taxonomy.py --quick   # short runs, FID on the classifier's features only
    OMP_NUM_THREADS=1 python benchmarks/taxonomy.py --quick --inception 200   # and Inception FID on 200 per model
    OMP_NUM_THREADS=1 python benchmarks/taxonomy.py           # the presets' steps, IWAE k = 5000, whole test splits
    python benchmarks/taxonomy.py --smoke     # a check of the script (seconds), into a temporary folder

A run directory that exists already (``--runs``/NAME) is scored again, not retrained; ``--gan-run DIR`` scores a
trained GAN run on Fashion-MNIST (e.g. the ``best-fashion-mnist`` preset's) in place of the quick DCGAN.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from common import hardware, train_once, write_results  # noqa: E402  (benchmarks/common.py, beside this script)
from gankit.config import DataConfig  # noqa: E402
from gankit.data import load_from_config  # noqa: E402
from gankit.losses.likelihood import dequantize, pca_gmm_log_density, pca_residual_variance, vae_bounds  # noqa: E402
from gankit.methods.gmm import GMMGenerator  # noqa: E402
from gankit.metrics.extractors import default_extractor, extract, get_extractor  # noqa: E402
from gankit.metrics.scoring import FeatureSet, score_features  # noqa: E402
from gankit.train.restore import load_method  # noqa: E402

# (name, dataset, binarised?) and the presets trained on each
SETTINGS = [("binary mnist-5k", "mnist-5k", True), ("binary fashion-mnist", "fashion-mnist", True),
            ("8-bit fashion-mnist", "fashion-mnist", False)]  # fmt: skip
# --quick: the PixelCNNs were most of the CPU time (300 steps of 784-pixel NLLs, and 64 previews drawn pixel by
# pixel at the end of training); a step at width 24 costs 0.7 (8-bit) to 0.9 (binary) of one at width 32, and one
# 16-image preview suffices.
QUICK = {"pixelcnn": ["train.steps=300", "pixelcnn.layers=5", "pixelcnn.width=24", "train.num_samples=16"],
         "vae": ["train.steps=1000", "vae.width=32"], "gan": ["train.steps=500"]}  # fmt: skip
GMM_MAX_TRAIN = 10_000  # EM and PCA on at most this many training images (a random subset of Fashion-MNIST's 60,000)
NOT_DEFINED = {"VAE": "no 8-bit likelihood\n(Bernoulli decoder)", "GAN": "not trained on\nbinary images"}
GMM_GRID = [(k, p) for k in (5, 20) for p in (20, 60)]  # (components, principal components), chosen on validation
PUBLISHED = {
    "binary mnist-5k": [
        ("PixelCNN (van den Oord et al. 2016, Table 4; binarised MNIST, 60,000 training images)", 81.30),
        ("VAE, one stochastic layer (Burda et al. 2016, Table 1; k = 5000; 60,000 training images)", 86.76),
    ]
}
GRID = 36  # samples per grid
# --smoke: every step in seconds (a check of the script, not a result): tiny models at 2 steps, 4 samples per grid,
# 20 test images, IWAE k = 2, a two-point GMM grid on 500 training images
SMOKE = {"pixelcnn": ["train.steps=2", "pixelcnn.layers=2", "pixelcnn.width=8", "pixelcnn.first_kernel=3",
                      "train.num_samples=1"],
         "vae": ["train.steps=2", "vae.width=8", "train.num_samples=4"],
         "gan": ["train.steps=2", "model.g_width=8", "model.d_width=8", "train.batch_size=16"]}  # fmt: skip


def data_config(dataset: str, binary: bool, split: str) -> DataConfig:
    return DataConfig(name=dataset, split=split, binarize="stochastic" if binary else None)


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


def pixelcnn_row(name, dataset, binary, test, args) -> tuple[dict, torch.Tensor]:
    preset = "pixelcnn-mnist-5k" if dataset == "mnist-5k" else "pixelcnn-fashion-mnist"
    overrides = data_overrides(dataset, binary) + [f"pixelcnn.likelihood={'bernoulli' if binary else 'categorical'}"]
    overrides += QUICK["pixelcnn"] if args.quick else []
    t = train_once(preset, Path(args.runs) / f"pixelcnn-{name.replace(' ', '-')}", overrides, args.progress)
    method, _ = load_method(Path(args.runs) / f"pixelcnn-{name.replace(' ', '-')}")
    method.progress = args.progress
    nll = method.nll(test)
    z = torch.randn(args.pixelcnn_n, method.z_dim, generator=torch.Generator().manual_seed(0))
    x, rate = timed_samples(lambda n: method.sample(z[:n]), args.pixelcnn_n)
    row = nll_row("PixelCNN", nll, test[0].numel(), "exact", samples_per_s=rate, passes_per_sample=method.z_dim,
                  train_seconds=t.get("seconds"), steps=t.get("steps"))  # fmt: skip
    return row, x


def vae_row(name, dataset, test, args) -> tuple[dict, torch.Tensor]:
    run = Path(args.runs) / f"vae-{name.replace(' ', '-')}"
    overrides = data_overrides(dataset, True) + (QUICK["vae"] if args.quick else [])
    t = train_once("vae-fashion-mnist", run, overrides, args.progress)
    method, _ = load_method(run)
    method.encoder.eval(), method.decoder.eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        bounds = [vae_bounds(method.encoder, method.decoder, xb, args.k, chunk=args.chunk, generator=g)
                  for xb in test.split(100)]  # fmt: skip
    elbo, iwae = torch.cat([b[0] for b in bounds]), torch.cat([b[1] for b in bounds])
    z = torch.randn(args.score_n, method.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x, rate = timed_samples(lambda n: method.sample(z[:n]), args.score_n)
    dims = test[0].numel()
    rows = [nll_row("VAE (ELBO)", -elbo, dims, "bound", samples_per_s=rate, passes_per_sample=1,
                    train_seconds=t.get("seconds"), steps=t.get("steps")),
            nll_row(f"VAE (IWAE, k={args.k})", -iwae, dims, "bound", samples_per_s=rate, passes_per_sample=1,
                    train_seconds=t.get("seconds"), steps=t.get("steps"))]  # fmt: skip
    return rows, x


def gmm_row(train: torch.Tensor, test: torch.Tensor, levels: int, n: int) -> tuple[dict, torch.Tensor]:
    """The GMM's dequantisation bound: log P(x) >= E_u log p((k + u) / L) - D log L, one draw of u per image."""
    g = torch.Generator().manual_seed(0)
    train = train[torch.randperm(len(train), generator=g)[:GMM_MAX_TRAIN]]
    y = dequantize(train, levels, g)
    perm = torch.randperm(len(y), generator=g)
    fit_part, val_part = y[perm[len(y) // 10 :]], y[perm[: len(y) // 10]]
    dims = train[0].numel()
    t = time.perf_counter()
    scores = {}
    for k, p in GMM_GRID:  # choose K and the PCA size by the validation likelihood
        gmm = GMMGenerator(k, pca_components=p, seed=0).fit(fit_part)
        scores[(k, p)] = float(pca_gmm_log_density(gmm, val_part, pca_residual_variance(gmm, fit_part)).mean())
    k, p = max(scores, key=scores.__getitem__)
    gmm = GMMGenerator(k, pca_components=p, seed=0).fit(y)
    s2 = pca_residual_variance(gmm, y)
    seconds = time.perf_counter() - t
    log_p = pca_gmm_log_density(gmm, dequantize(test, levels, g), s2) - dims * math.log(levels)
    x, rate = timed_samples(lambda m: gmm.sample_n(m, seed=0), n)
    row = nll_row(f"GMM (K={k}, {p} PCs)", -log_p, dims, "bound", samples_per_s=rate, passes_per_sample=1,
                  train_seconds=seconds, validation={f"K={a},PCs={b}": v for (a, b), v in scores.items()})  # fmt: skip
    return row, (x * 2 - 1).clamp(-1, 1)  # [0, 1] -> gankit's [-1, 1]


def gan_row(args) -> tuple[dict, torch.Tensor]:
    run = Path(args.gan_run) if args.gan_run else Path(args.runs) / "gan-8-bit-fashion-mnist"
    overrides = QUICK["gan"] if args.quick else []
    t = {} if args.gan_run else train_once("dcgan-fashion-mnist", run, overrides, args.progress)
    method, cfg = load_method(run)
    z = torch.randn(args.score_n, method.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x, rate = timed_samples(lambda n: method.sample(z[:n]), args.score_n)
    row = {"model": f"GAN ({cfg.model.arch})", "nll_nats": None, "bits_per_dim": None, "kind": "none",
           "samples_per_s": rate, "passes_per_sample": 1, "train_seconds": t.get("seconds"), "steps": t.get("steps")}
    return row, x


def cached_features(ex, x: torch.Tensor, path: Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Features (and class probabilities) of reference images, kept in ``path`` as the metrics' reference cache
    does (the Inception's 3 to 9 images per second make them worth keeping between runs)."""
    from safetensors.torch import load_file, save_file

    if path.is_file():
        t = load_file(str(path))
        if len(t["features"]) == len(x):
            return t["features"], t.get("probs")
    f, probs = extract(ex, x)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"features": f.contiguous(), **({"probs": probs.contiguous()} if probs is not None else {})}, str(path))
    return f, probs


def references(name: str, dataset: str, test: torch.Tensor, args) -> dict:
    """Per extractor: (extractor, features, probabilities) of the scored test images (the first ``--inception``
    of them for the Inception); the shipped classifier is the dataset's own (MNIST's or Fashion-MNIST's)."""
    ex = get_extractor(default_extractor(dataset))
    refs = {"classifier": (ex, *extract(ex, test))}
    if args.inception:
        inc = get_extractor("inception")
        path = Path(args.runs) / "reference" / f"{name.replace(' ', '-')}-{inc.key}-n{args.inception}.safetensors"
        refs["inception"] = (inc, *cached_features(inc, test[: args.inception], path))
    return refs


def sample_scores(x: torch.Tensor, refs: dict, inception_n: int) -> dict:
    """FID and precision/recall (k = 3) of samples ``x`` in [-1, 1] against each extractor's reference features,
    through gankit's score registry (the numbers ``gankit evaluate`` would give on these features)."""
    out = {}
    for key, (ex, real, real_probs) in refs.items():
        n = len(x) if key == "classifier" else min(len(x), inception_n)
        fake, fake_probs = extract(ex, x[:n].float().clamp(-1, 1))
        s = score_features(FeatureSet(real, real_probs, fake, fake_probs), ["fid", "pr"])
        out[key] = {"n": n, "ref_n": len(real), "fid": s["fid"], "precision": s["precision"], "recall": s["recall"]}
    return out


def figure(grids: dict, path: Path) -> None:
    """One panel per (dataset, model): a 6 x 6 grid of samples, beside the test images."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gankit.images import make_grid

    models = ["test images", "PixelCNN", "VAE", "GMM", "GAN"]
    fig, axes = plt.subplots(len(SETTINGS), len(models), figsize=(2.6 * len(models), 2.8 * len(SETTINGS)))
    for i, (name, _, _) in enumerate(SETTINGS):
        for j, model in enumerate(models):
            ax = axes[i, j]
            ax.set_xticks([]), ax.set_yticks([])
            x = grids.get((name, model))
            if x is None:
                ax.text(0.5, 0.5, NOT_DEFINED.get(model, "—"), ha="center", va="center", fontsize=9)
            else:
                grid = ((make_grid(x.float(), nrow=6)[0] + 1) / 2).clamp(0, 1)
                ax.imshow(grid.numpy(), cmap="gray", vmin=0, vmax=1)
            if i == 0:
                ax.set_title(model)
            if j == 0:
                ax.set_ylabel(name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def score_cells(r: dict, extractors: list[str]) -> list[str]:
    """Table cells of a row's scores: n, then FID and precision / recall per extractor (— where not scored)."""
    scores = r.get("scores", {})
    ns = "/".join(str(scores[e]["n"]) for e in extractors if e in scores) or "—"
    cells = [ns]
    for e in extractors:
        sc = scores.get(e)
        cells += ["—", "—"] if sc is None else [f"{sc['fid']:.1f}", f"{sc['precision']:.2f} / {sc['recall']:.2f}"]
    return cells


def table(results: dict) -> str:
    extractors = ["classifier"] + (["inception"] if results.get("inception_n") else [])
    head = "".join(f" FID ({e}) | P / R ({e}) |" for e in extractors)
    lines = [f"Hardware: {results['hardware']}", "",
             f"Wall clock {results['wall_seconds'] / 60:.1f} min, CPU time (user + system) "
             f"{results['cpu_seconds'] / 60:.1f} min, of which scoring samples {results['score_cpu_seconds'] / 60:.1f}"
             f" min; quick overrides: {QUICK if results['quick'] else 'none'}", "",
             f"FID and precision / recall (k = 3) of n samples per model ({results['score_n']}; the PixelCNN's "
             f"{results['pixelcnn_n']}, drawn pixel by pixel"
             + ("; n = classifier/Inception" if results["inception_n"] else "") + ") against the test images "
             "(all of the table's for the classifier"
             + (f", the first {results['inception_n']} for the Inception" if results["inception_n"] else "")
             + "); the classifier is the dataset's shipped one; samples/s: one batch of the n samples", ""]  # fmt: skip
    for name, rows in results["settings"].items():
        lines += [f"### {name} (test: {results['test_size'][name]} images)", "",
                  f"| model | test NLL (nats/image) | bits/dim | kind | samples/s | passes/sample | n |{head} train s "
                  "| CPU s |",
                  "| --- " * (9 + 2 * len(extractors)) + "|"]  # fmt: skip
        for r in rows:
            nll = "—" if r["nll_nats"] is None else f"{r['nll_nats']:.2f} ± {r['nll_se']:.2f}"
            bpd = "—" if r["bits_per_dim"] is None else f"{r['bits_per_dim']:.3f}"
            secs = "—" if r.get("train_seconds") is None else f"{r['train_seconds']:.0f}"
            cpu = "—" if r.get("cpu_seconds") is None else f"{r['cpu_seconds']:.0f}"
            rate = "—" if r.get("samples_per_s") is None else f"{r['samples_per_s']:.1f}"
            passes = "—" if r.get("passes_per_sample") is None else str(r["passes_per_sample"])
            cells = [r["model"], nll, bpd, r["kind"], rate, passes, *score_cells(r, extractors), secs, cpu]
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short runs, 1,000 test images, IWAE k = 200")
    p.add_argument("--k", type=int, help="IWAE samples (default 5000; 200 with --quick)")
    p.add_argument("--chunk", type=int, default=100, help="IWAE samples per decoder pass")
    p.add_argument("--test-size", type=int, help="test images per dataset (default all; 1000 with --quick)")
    p.add_argument("--gan-run", help="a trained GAN run on Fashion-MNIST to score instead of the DCGAN preset")
    p.add_argument("--runs", help="run directories (default runs/taxonomy[-quick])")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "taxonomy"))
    p.add_argument("--score-n", type=int, help="samples per model for FID and precision/recall (default 5000; "
                   "500 with --quick)")
    p.add_argument("--pixelcnn-n", type=int, help="the PixelCNN's samples, drawn pixel by pixel (default 1000; "
                   "200 with --quick)")
    p.add_argument("--inception", type=int, default=0, metavar="N", help="also score the first N samples of each "
                   "model against N test images on the FID Inception's features (0: off, the default)")
    p.add_argument("--progress", action="store_true")
    p.add_argument("--steps", type=int, help="train every model this many steps (a dry run of the script)")
    p.add_argument("--smoke", action="store_true", help="every step in seconds on tiny settings, runs and results in a "
                   "new temporary folder (a check of the script, not a result)")
    args = p.parse_args()
    if args.smoke:
        global GRID, GMM_MAX_TRAIN
        tmp = Path(tempfile.mkdtemp(prefix="taxonomy-smoke-"))
        args.runs, args.out, args.quick = str(tmp / "runs"), str(tmp / "results"), True
        args.k, args.chunk, args.test_size, args.score_n, args.pixelcnn_n = 2, 2, 20, 8, 6
        QUICK.update(SMOKE)
        GRID, GMM_MAX_TRAIN, GMM_GRID[:] = 4, 500, [(2, 5), (3, 5)]
    if args.steps:
        for key in QUICK:
            QUICK[key] = [o for o in QUICK[key] if not o.startswith("train.steps=")] + [f"train.steps={args.steps}"]
        args.quick = True
    suffix = "-quick" if args.quick else ""
    args.k = args.k or (200 if args.quick else 5000)
    args.test_size = args.test_size or (1000 if args.quick else None)
    args.score_n = args.score_n or (500 if args.quick else 5000)
    args.pixelcnn_n = args.pixelcnn_n or (200 if args.quick else 1000)
    args.runs = args.runs or str(ROOT / "runs" / f"taxonomy{suffix}")
    torch.manual_seed(0)
    start = time.perf_counter()
    results: dict = {"hardware": hardware(), "quick": args.quick, "k": args.k, "settings": {}, "test_size": {},
                     "train_size": {}, "score_n": args.score_n, "pixelcnn_n": args.pixelcnn_n,
                     "inception_n": args.inception, "score_cpu_seconds": 0.0}  # fmt: skip
    grids = {}
    for name, dataset, binary in SETTINGS:
        train = load_from_config(data_config(dataset, binary, "train")).x
        test = load_from_config(data_config(dataset, binary, "test")).x[: args.test_size]
        results["test_size"][name], results["train_size"][name] = len(test), len(train)
        shown = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:GRID]  # mnist-5k: sorted
        grids[(name, "test images")] = test[shown]
        refs = references(name, dataset, test, args)
        real = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[: args.score_n]]
        rows = []

        def scored(new_rows: list[dict], x: torch.Tensor, model: str, cpu: float, refs=refs, name=name, rows=rows):
            """Score the samples, keep a grid of them, and add the rows with this model's CPU seconds."""
            t = time.process_time()
            scores = sample_scores(x, refs, args.inception)
            grids[(name, model)] = x[:GRID]
            results["score_cpu_seconds"] += time.process_time() - t  # once per model (the VAE has two rows)
            rows.extend({**r, "scores": scores, "cpu_seconds": time.process_time() - cpu} for r in new_rows)

        cpu = time.process_time()  # this process's CPU seconds per model (training runs in process): the profile
        row, x = pixelcnn_row(name, dataset, binary, test, args)
        scored([row], x, "PixelCNN", cpu)
        if binary:  # the Bernoulli VAE is a likelihood of binary images only
            cpu = time.process_time()
            vae_rows, x = vae_row(name, dataset, test, args)
            scored(vae_rows, x, "VAE", cpu)
        cpu = time.process_time()
        row, x = gmm_row(train, test, 2 if binary else 256, args.score_n)
        scored([row], x, "GMM", cpu)
        if not binary:
            cpu = time.process_time()
            row, x = gan_row(args)
            scored([row], x, "GAN", cpu)
        cpu = time.process_time()  # the yardstick: real images the models never saw, scored as the samples are
        yardstick = {"model": "real training images", "nll_nats": None, "bits_per_dim": None, "kind": "data",
                     "samples_per_s": None, "passes_per_sample": None}  # fmt: skip
        scored([yardstick], real, "real", cpu)
        results["settings"][name] = rows
        print(f"{name}: {[(r['model'], r['nll_nats']) for r in rows]}", file=sys.stderr, flush=True)
    results["wall_seconds"] = time.perf_counter() - start
    results["cpu_seconds"] = time.process_time()  # user + system of this process (1 thread): wall / cpu = sharing
    Path(args.out).mkdir(parents=True, exist_ok=True)
    figure(grids, Path(args.out) / f"taxonomy{suffix}.png")
    write_results(args.out, suffix, results, table(results))


if __name__ == "__main__":
    main()
