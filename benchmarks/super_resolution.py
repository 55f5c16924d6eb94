"""Super-resolution at 4x: bicubic, SRResNet (pixel MSE) and SRGAN (+ adversarial loss), Ledig et al. 2017.

Photographs: trained on random crops of the BSDS500 train + val photographs (preset ``srresnet-bsds500``; then from
that SRResNet, as the paper starts SRGAN, both ``srgan-bsds500`` and the same SRResNet trained on for as many steps,
so the two compared models had equal budgets), tested on Set5 and Set14: PSNR and SSIM on the
luma channel with a 4-pixel border (the paper's convention), the high-frequency energy ratio (detail above the
input's Nyquist band over the truth's: 1 is as detailed as the original, bicubic and MSE fall well short), and
KID (x 1e3) between 64 x 64 patches of the outputs and of the originals in FID-Inception features (Binkowski et al.
2018; unbiased, so usable with a few hundred patches where FID is not). Fashion-MNIST (7 -> 28): the same pair of
presets, scored on 2,000 test images with FID in the shipped classifier's features.
Writes ``results.json``, ``table.md`` and ``set14-<image>.png`` (bicubic | SRResNet | SRGAN | original) to ``--out``.

    OMP_NUM_THREADS=1 python benchmarks/super_resolution.py                 # trains 6 runs (table.md: the times)
    OMP_NUM_THREADS=1 python benchmarks/super_resolution.py --only fashion-mnist

Run directories that exist (``--runs``/NAME) are scored again, not retrained.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

import torch  # noqa: E402

from common import hardware, train_once, write_results  # noqa: E402  (benchmarks/common.py, beside this script)
from gankit.config import load_config  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.data.photos import image_paths, random_crops, read_image  # noqa: E402
from gankit.images import save_grid  # noqa: E402
from gankit.methods.superres import quantize, sr_scores  # noqa: E402
from gankit.metrics.image_quality import rgb_to_y  # noqa: E402
from gankit.metrics.extractors import extract, get_extractor  # noqa: E402
from gankit.metrics.fid import fid  # noqa: E402
from gankit.metrics.kid import kid  # noqa: E402
from gankit.nets.srresnet import downscale_bicubic  # noqa: E402
from gankit.superres import Upscaler, score_images  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
ANCHOR = (
    "Ledig et al. 2017, Table 2 (4x): Set5 bicubic 28.43 / SRResNet 32.05 / SRGAN 29.40 dB; "
    "Set14 26.00 / 28.49 / 26.02"
)


def train(preset: str, name: str, overrides: list[str], args) -> tuple[Path, float]:
    run_dir = Path(args.runs) / name
    return run_dir, train_once(preset, run_dir, overrides, args.progress)["seconds"]


def pair(data: str, overrides: list[str], args) -> tuple[dict, dict]:
    """SRResNet, then from it both SRGAN and SRResNet trained on for SRGAN's steps (equal budgets: the comparison
    is adversarial loss or not, not more steps or fewer)."""
    base, t0 = train(f"srresnet-{data}", f"srresnet-{data}", overrides, args)
    steps = load_config(f"srgan-{data}", overrides).train.steps
    init = [f"superres.init_g={base}", f"train.steps={steps}"]
    srresnet, t1 = train(f"srresnet-{data}", f"srresnet-{data}-continued", overrides + init, args)
    srgan, t2 = train(f"srgan-{data}", f"srgan-{data}", overrides + init, args)
    runs = {"bicubic": None, "srresnet": srresnet, "srgan": srgan}
    return runs, {"srresnet_first": t0, "srresnet_continued": t1, "srgan": t2}


def patch_kid(models: dict, folders: list[Path], n_patches: int, seed: int = 0) -> dict[str, float]:
    """KID x 1e3 of each model's 64 x 64 output patches against the same patches of the originals."""
    g = torch.Generator().manual_seed(seed)
    truths = [read_image(p) for f in folders for p in image_paths([f])]
    per_image = -(-n_patches // len(truths))
    crops = {name: [] for name in ["truth", *models]}
    for truth in truths:
        truth = truth[..., : truth.shape[-2] // 4 * 4, : truth.shape[-1] // 4 * 4]
        low = quantize(downscale_bicubic(truth, 4))
        outs = {name: up(low) for name, up in models.items()}
        state = g.get_state()
        for name, img in [("truth", truth), *outs.items()]:
            g.set_state(state)  # the same windows in every image version
            crops[name].append(random_crops(img.expand(per_image, -1, -1, -1), 64, g, align=4)[0])
    ex = get_extractor("inception")
    feats = {name: extract(ex, torch.cat(c), progress=False)[0] for name, c in crops.items()}
    size = min(100, len(feats["truth"]))
    return {name: 1e3 * kid(feats[name], feats["truth"], subset_size=size)[0] for name in models}


def photographs(args) -> dict:
    bsds = ["data.root=" + str(Path(args.data) / "bsds500")]
    runs, seconds = pair("bsds500", bsds, args)
    sets = {s: Path(args.data) / "sr" / s for s in ("Set5", "Set14")}
    table = {s: {name: score_images(run, folder) for name, run in runs.items()} for s, folder in sets.items()}
    for s in table:
        for name in table[s]:
            table[s][name].pop("model")
    kids = patch_kid({name: Upscaler(run) for name, run in runs.items()}, list(sets.values()), args.patches)
    figure(runs, sets["Set14"], args.figure_image, Path(args.out) / f"set14-{args.figure_image}.png")
    return {"scores": table, "patch_kid_x1e3": kids, "train_seconds": seconds}


def fashion(args) -> dict:
    runs, seconds = pair("fashion-mnist", [], args)
    x = load_dataset("fashion-mnist", split="test").x[: args.fashion_n]
    low = quantize(downscale_bicubic(x, 4))
    ex = get_extractor("fashion-mnist-classifier")
    real = extract(ex, x, progress=False)[0]
    out, rows = {}, []
    for name, run in runs.items():
        up = Upscaler(run)
        y = torch.cat([up(b) for b in low.split(500)])
        rows.append(y[:12])
        scores = {k: float(v.mean()) for k, v in sr_scores(y, x, 4).items()}
        out[name] = {**scores, "fid_classifier": fid(extract(ex, y, progress=False)[0], real)}
    # One row per model (bicubic, SRResNet, SRGAN), then the truth: the first 12 test images.
    save_grid(torch.cat(rows + [x[:12]]), Path(args.out) / "fashion-mnist.png", nrow=12)
    return {"scores": out, "n_test": len(x), "train_seconds": seconds}


def busiest_window(x: torch.Tensor, size: int) -> tuple[int, int, int]:
    """The ``size`` x ``size`` window of ``x`` with the most fine detail (mean absolute luma gradient)."""
    y = rgb_to_y(x)
    grad = (y[..., 1:, :-1] - y[..., :-1, :-1]).abs() + (y[..., :-1, 1:] - y[..., :-1, :-1]).abs()
    score = torch.nn.functional.avg_pool2d(grad, size, stride=max(1, size // 8))[0, 0]
    i, j = divmod(int(score.argmax()), score.shape[1])
    return i * max(1, size // 8), j * max(1, size // 8), size


def figure(runs: dict, folder: Path, image: str, path: Path) -> None:
    """The lecture's side-by-side: bicubic | SRResNet | SRGAN | original, whole image and a zoomed window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truth = read_image(next(p for p in image_paths([folder]) if p.stem == image))
    truth = truth[..., : truth.shape[-2] // 4 * 4, : truth.shape[-1] // 4 * 4]
    low = quantize(downscale_bicubic(truth, 4))
    panels = [(name, Upscaler(run)(low)) for name, run in runs.items()] + [("original", truth)]
    top, left, size = busiest_window(truth, min(truth.shape[-2:]) // 3)  # the zoomed window: where detail is
    fig, axes = plt.subplots(2, 4, figsize=(16, 8.4))
    for col, (name, img) in enumerate(panels):
        a = ((img[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
        s = sr_scores(img, truth, 4)
        scores = f"{float(s['psnr']):.2f} dB, hf ratio {float(s['hf_ratio']):.2f}"
        label = name if name == "original" else f"{name}\n{scores}"
        axes[0, col].imshow(a)
        axes[0, col].add_patch(plt.Rectangle((left, top), size, size, fill=False, color="yellow", lw=1.5))
        axes[0, col].set_title(label, fontsize=11)
        axes[1, col].imshow(a[top : top + size, left : left + size], interpolation="nearest")
        for ax in axes[:, col]:
            ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle(f"4x super-resolution of Set14 '{image}' (luma PSNR, 4-pixel border; zoom below)", fontsize=13)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _times(seconds: dict) -> str:
    return "training seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items())


def markdown(res: dict) -> str:
    lines = [f"{res['hardware']}; {ANCHOR}", ""]
    if "photographs" in res:
        p = res["photographs"]
        head = "| model | Set5 PSNR | Set5 SSIM | Set5 hf ratio | Set14 PSNR | Set14 SSIM | Set14 hf ratio | patch KID x1e3 |"
        lines += [head, "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name in p["scores"]["Set5"]:
            a, b = p["scores"]["Set5"][name], p["scores"]["Set14"][name]
            cells = [f"{a['psnr']:.2f}", f"{a['ssim']:.4f}", f"{a['hf_ratio']:.3f}", f"{b['psnr']:.2f}"]
            cells += [f"{b['ssim']:.4f}", f"{b['hf_ratio']:.3f}", f"{p['patch_kid_x1e3'][name]:.2f}"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += ["", _times(p["train_seconds"]), ""]
    if "fashion-mnist" in res:
        f = res["fashion-mnist"]
        lines += [f"Fashion-MNIST 7 -> 28, {f['n_test']} test images:", ""]
        lines += ["| model | PSNR | SSIM | hf ratio | FID (classifier) |", "| --- | --- | --- | --- | --- |"]
        for name, s in f["scores"].items():
            cells = [f"{s['psnr']:.2f}", f"{s['ssim']:.4f}", f"{s['hf_ratio']:.3f}", f"{s['fid_classifier']:.2f}"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += ["", _times(f["train_seconds"])]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=["photographs", "fashion-mnist"])
    p.add_argument("--data", default=str(DATA), help="the reference data folder (bsds500/, sr/)")
    p.add_argument("--runs", default=str(ROOT / "runs" / "bench-superres"))
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "super-resolution"))
    p.add_argument("--patches", type=int, default=400, help="64 x 64 patches for the patch KID")
    p.add_argument("--fashion-n", type=int, default=2000)
    p.add_argument("--figure-image", default="baboon")
    p.add_argument("--progress", action="store_true")
    args = p.parse_args()
    t0 = time.monotonic()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    res: dict = {"anchor": ANCHOR, "hardware": hardware()}
    if args.only in (None, "photographs"):
        res["photographs"] = photographs(args)
    if args.only in (None, "fashion-mnist"):
        res["fashion-mnist"] = fashion(args)
    res["seconds"] = time.monotonic() - t0
    write_results(args.out, f"-{args.only}" if args.only else "", res, markdown(res))


if __name__ == "__main__":
    main()
