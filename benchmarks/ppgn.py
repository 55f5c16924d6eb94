"""Plug-and-play sampling (Nguyen et al. 2017) on Fashion-MNIST: class accuracy and FID of PPGN chains vs a GMM.

Two chains (:mod:`gankit.sampling.ppgn`), both steered by the shipped classifier:

- PPGN-x, in pixel space: a denoising autoencoder trained on the Fashion-MNIST training images less a validation
  split of 5,000 (seeded) gives the prior's term; chains start from uniform noise.
- PPGN-h, in the latent space of a trained GAN generator (``--gan-run``; by default the ``dcgan-fashion-mnist``
  preset, trained into runs/ppgn-dcgan when that folder has no checkpoint): the prior N(0, I)'s score -z and
  the class gradient through G; chains start from z ~ N(0, I) and the sample is G(z_T).

Each chain's step sizes (and PPGN-h's number of steps) are chosen on the validation split (100 chains, 10 per
class): among the grid points whose chains land in the requested class at least 90% of the time (the shipped
classifier's verdict on 8-bit images), the one with the lowest classifier-feature FID against the 5,000 validation
images. Then 500 chains, 50 per class, and the test split is read once: the fraction of final samples the shipped
classifier assigns to the requested class, and their FID (classifier features) against the 10,000 test images,
beside the GAN's own samples (no chain) and a GMM fitted as in ``benchmarks/taxonomy.py`` (K = 20, 60 principal
components, its validation choice for 8-bit Fashion-MNIST, on 10,000 training images), each scored on as many
samples with the same protocol. Writes results.json, table.md, chains.png (PPGN-x), chains-latent.png (PPGN-h) and
chains-from-data.png to ``--out`` and prints the JSON.

    OMP_NUM_THREADS=1 python benchmarks/ppgn.py   # 11 min of CPU, 29 min wall on 2 shared cores (DAE, DCGAN reused)
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
from gankit.api import save_samples  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.methods.gmm import GMMGenerator  # noqa: E402
from gankit.metrics.extractors import extract  # noqa: E402
from gankit.metrics.fid import fid  # noqa: E402
from gankit.sampling.ppgn import (  # noqa: E402
    DAEConfig,
    load_dae,
    run_generator,
    sample_chains,
    sample_latent_chains,
    save_dae,
    shipped_classifier,
    train_dae,
)

EXTRACTOR = "fashion-mnist-classifier"
EPS1_GRID = (0.3, 0.6, 1.0)
EPS2_GRID = (1.0, 2.0, 4.0)
EPS3 = 0.05
VAL_SIZE, VAL_CHAINS, VAL_STEPS = 5000, 100, 100
# PPGN-h: eps1 on the prior -z, eps3 = sqrt(2 eps1) (the noise that keeps N(0, I) invariant), steps read off the chain
LATENT_EPS1_GRID = (0.005, 0.02)
LATENT_EPS2_GRID = (0.03, 0.1, 0.3)
LATENT_STEPS_GRID = (50, 100, 200)
# --smoke: every step in seconds (a check of the script, not a result): a 2-step DAE and tiny DCGAN, 10 chains of 2
# steps, two points of each validation grid, 500 validation and test images, a GMM on 500 images; runs and results
# in a new temporary folder
SMOKE_GAN = ["train.steps=2", "model.g_width=8", "model.d_width=8", "train.batch_size=16"]


def score(images: torch.Tensor, cls: torch.Tensor, ref_feats: torch.Tensor) -> tuple[float, float]:
    """(fraction classified as ``cls``, FID against ``ref_feats``), both on the 8-bit images (the extractor's)."""
    feats, probs = extract(EXTRACTOR, images)
    assert probs is not None
    return float((probs.argmax(1) == cls).float().mean()), fid(feats, ref_feats)


def choose(grid: dict) -> dict:
    """The grid point with the lowest validation FID among those with validation accuracy >= 0.9 (else the most
    accurate)."""
    ok = [g for g in grid.values() if g["val_acc"] >= 0.9] or sorted(grid.values(), key=lambda g: -g["val_acc"])[:1]
    return min(ok, key=lambda g: g["val_fid"])


def latent_grid(G, z_dim: int, clf, val_feats: torch.Tensor) -> dict:
    """PPGN-h's validation grid: one 200-step run per (eps1, eps2), scored at each of ``LATENT_STEPS_GRID``."""
    cls_val = torch.arange(10).repeat_interleave(VAL_CHAINS // 10)
    top = max(LATENT_STEPS_GRID)
    grid = {}
    for e1 in LATENT_EPS1_GRID:
        for e2 in LATENT_EPS2_GRID:
            e3 = round(math.sqrt(2 * e1), 4)
            record = top // math.gcd(*LATENT_STEPS_GRID) + 1  # frames at every multiple of the steps' gcd
            _, frames = sample_latent_chains(G, clf, cls_val, z_dim, top, (e1, e2, e3), seed=1, record=record)
            for steps in LATENT_STEPS_GRID:
                acc, f = score(frames[:, steps * (record - 1) // top], cls_val, val_feats)
                grid[f"eps1={e1},eps2={e2},steps={steps}"] = {"eps1": e1, "eps2": e2, "eps3": e3, "steps": steps,
                                                             "val_acc": acc, "val_fid": f}  # fmt: skip
                print(f"validation PPGN-h eps1={e1} eps2={e2} steps={steps}: acc {acc:.3f} FID {f:.2f}",
                      file=sys.stderr, flush=True)  # fmt: skip
    return grid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ppgn"))
    ap.add_argument("--run", default="runs/ppgn-bench", help="the DAE's folder (reused when it holds one)")
    ap.add_argument(
        "--gan-run",
        default="runs/ppgn-dcgan",
        help="PPGN-h's GAN run (the dcgan-fashion-mnist preset is trained there when it has no checkpoint)",
    )
    ap.add_argument("--dae-steps", type=int, default=1500)
    ap.add_argument("--adv-weight", type=float, default=0.01)
    ap.add_argument("--chains", type=int, default=500)
    ap.add_argument("--steps", type=int, default=200, help="PPGN-x's steps (PPGN-h's are chosen on validation)")
    ap.add_argument("--smoke", action="store_true", help="every step in seconds on tiny settings, into a new "
                    "temporary folder (a check of the script, not a result)")
    args = ap.parse_args()
    if args.smoke:
        global EPS1_GRID, EPS2_GRID, VAL_SIZE, VAL_CHAINS, VAL_STEPS
        global LATENT_EPS1_GRID, LATENT_EPS2_GRID, LATENT_STEPS_GRID
        tmp = Path(tempfile.mkdtemp(prefix="ppgn-smoke-"))
        args.out, args.run, args.gan_run = str(tmp / "results"), str(tmp / "dae"), str(tmp / "dcgan")
        args.dae_steps, args.chains, args.steps = 2, 10, 2
        EPS1_GRID, EPS2_GRID, VAL_SIZE, VAL_CHAINS, VAL_STEPS = (0.6,), (1.0, 2.0), 500, 10, 2
        LATENT_EPS1_GRID, LATENT_EPS2_GRID, LATENT_STEPS_GRID = (0.02,), (0.1, 0.3), (1, 2)
    t_start = time.perf_counter()

    train = load_dataset("fashion-mnist").x
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
    val, fit_part = train[perm[:VAL_SIZE]], train[perm[VAL_SIZE:]]
    cfg = DAEConfig(steps=args.dae_steps, adv_weight=args.adv_weight)
    t0 = time.perf_counter()
    if (Path(args.run) / "dae.safetensors").is_file():
        dae, cfg, _ = load_dae(args.run)
        print(f"reusing the DAE in {args.run}", file=sys.stderr)
    else:
        dae = train_dae(fit_part, cfg, log_every=250)
    dae_seconds = time.perf_counter() - t0
    gan_timing = train_once("dcgan-fashion-mnist", args.gan_run, SMOKE_GAN if args.smoke else [])
    G, z_dim = run_generator(args.gan_run)
    clf, classes = shipped_classifier()

    # eps (and PPGN-h's steps) on the validation split: accuracy >= 0.9 first, then the lowest FID (never the test).
    val_feats, _ = extract(EXTRACTOR, val)
    cls_val = torch.arange(10).repeat_interleave(VAL_CHAINS // 10)
    grid = {}
    for e1 in EPS1_GRID:
        for e2 in EPS2_GRID:
            x, _ = sample_chains(dae, clf, cls_val, VAL_STEPS, (e1, e2, EPS3), seed=1)
            acc, f = score(x, cls_val, val_feats)
            grid[f"eps1={e1},eps2={e2}"] = {"eps1": e1, "eps2": e2, "val_acc": acc, "val_fid": f}
            print(f"validation PPGN-x eps1={e1} eps2={e2}: acc {acc:.3f} FID {f:.2f}", file=sys.stderr, flush=True)
    best = choose(grid)
    eps = (best["eps1"], best["eps2"], EPS3)
    save_dae(dae, cfg, args.run, {"eps1": eps[0], "eps2": eps[1], "eps3": eps[2], "steps": args.steps})
    lgrid = latent_grid(G, z_dim, clf, val_feats)
    lbest = choose(lgrid)
    leps, lsteps = (lbest["eps1"], lbest["eps2"], lbest["eps3"]), lbest["steps"]

    test_feats, _ = extract(EXTRACTOR, load_dataset("fashion-mnist", split="test").x[: 500 if args.smoke else None])
    cls = torch.arange(10).repeat_interleave(args.chains // 10)
    t0 = time.perf_counter()
    x, _ = sample_chains(dae, clf, cls, args.steps, eps, seed=2)
    sample_seconds = time.perf_counter() - t0
    acc, ppgn_fid = score(x, cls, test_feats)
    with torch.no_grad():  # the diagnosis: does the DAE's reconstruction of a final state keep its class?
        rec_acc, rec_fid = score(dae(x), cls, test_feats)
    t0 = time.perf_counter()
    xh, _ = sample_latent_chains(G, clf, cls, z_dim, lsteps, leps, seed=2)
    latent_seconds = time.perf_counter() - t0
    h_acc, h_fid = score(xh, cls, test_feats)
    per_class = {classes[k]: {"ppgn_x": float((extract(EXTRACTOR, x[cls == k])[1].argmax(1) == k).float().mean()),
                              "ppgn_h": float((extract(EXTRACTOR, xh[cls == k])[1].argmax(1) == k).float().mean())}
                 for k in range(10)}  # fmt: skip
    with torch.no_grad():
        gan_x = G(torch.randn(len(x), z_dim, generator=torch.Generator().manual_seed(0)))
    gan_feats, _ = extract(EXTRACTOR, gan_x)

    g = torch.Generator().manual_seed(0)
    gmm_train = train[torch.randperm(len(train), generator=g)[: 500 if args.smoke else 10_000]]
    gmm = GMMGenerator(20, pca_components=60, seed=0).fit(gmm_train)
    gmm_x = gmm.sample_n(len(x), seed=0).float().clamp(-1, 1)
    gmm_feats, _ = extract(EXTRACTOR, gmm_x)
    real_feats, _ = extract(EXTRACTOR, val[: len(x)])

    out = Path(args.out)
    ten = torch.arange(10)
    _, chains = sample_chains(dae, clf, ten, args.steps, eps, seed=3, record=9)
    save_samples(chains.flatten(0, 1), out / "chains.png", nrow=chains.shape[1])
    _, chains = sample_latent_chains(G, clf, ten, z_dim, lsteps, leps, seed=3, record=9)
    save_samples(chains.flatten(0, 1), out / "chains-latent.png", nrow=chains.shape[1])
    start, target = val[:10], (ten + 5) % 10  # real images pushed toward another class
    _, chains = sample_chains(dae, clf, target, args.steps, eps, x0=start, seed=4, record=9)
    save_samples(chains.flatten(0, 1), out / "chains-from-data.png", nrow=chains.shape[1])

    report = {
        "hardware": hardware(),
        "dae": {**cfg.__dict__, "train_images": len(fit_part), "train_seconds": dae_seconds},
        "gan": {"run": str(args.gan_run), "preset": "dcgan-fashion-mnist", **gan_timing},
        "validation_grid": grid, "eps_chosen": {"eps1": eps[0], "eps2": eps[1], "eps3": eps[2]},
        "validation_grid_latent": lgrid,
        "latent_chosen": {"eps1": leps[0], "eps2": leps[1], "eps3": leps[2], "steps": lsteps},
        "chains": len(x), "steps": args.steps, "sample_seconds": sample_seconds, "latent_seconds": latent_seconds,
        "ppgn": {"class_accuracy": acc, "fid_test": ppgn_fid, "dae_of_final_class_accuracy": rec_acc,
                 "dae_of_final_fid_test": rec_fid},
        "ppgn_h": {"class_accuracy": h_acc, "fid_test": h_fid},
        "per_class_accuracy": per_class,
        "gan_samples": {"fid_test": fid(gan_feats, test_feats)},
        "gmm": {"model": "GMM (K=20, 60 PCs)", "fid_test": fid(gmm_feats, test_feats)},
        "real_validation_images": {"fid_test": fid(real_feats, test_feats), "n": len(x)},
        "wall_seconds": time.perf_counter() - t_start,
    }  # fmt: skip
    table = "\n".join([
        f"Hardware: {report['hardware']}", "",
        f"{len(x)} samples each; FID: {EXTRACTOR} features against the 10,000 test images.", "",
        "| samples | class accuracy | FID |", "| --- | --- | --- |",
        f"| PPGN-h in the DCGAN's z (eps1={leps[0]}, eps2={leps[1]}, eps3={leps[2]}, {lsteps} steps) | "
        f"{100 * h_acc:.1f}% | {h_fid:.2f} |",
        f"| PPGN-x in pixels (eps1={eps[0]}, eps2={eps[1]}, eps3={eps[2]}, {args.steps} steps) | {100 * acc:.1f}% | "
        f"{ppgn_fid:.2f} |",
        f"| the DAE's reconstruction of PPGN-x's final states | {100 * rec_acc:.1f}% | {rec_fid:.2f} |",
        f"| DCGAN samples, no chain | — | {report['gan_samples']['fid_test']:.2f} |",
        f"| GMM (K=20, 60 PCs) | — | {report['gmm']['fid_test']:.2f} |",
        f"| real validation images | — | {report['real_validation_images']['fid_test']:.2f} |", "",
    ])  # fmt: skip
    write_results(out, "", report, table)


if __name__ == "__main__":
    main()
