"""Time to quality: Inception FID against minutes of training, gankit's recipes against the textbook DCGAN loop.

Every contender trains on Fashion-MNIST for the same wall-clock budgets (``--budgets 2,5,10`` minutes) on the same
machine, in one run, one after another (never two at once). At each budget the clock stops, and the model is scored
by the Inception FID (Heusel et al. 2017) of ``--n`` 1,000 samples against 1,000 images of ``--split``; at the end
each contender's last model is scored at the standard protocol, ``--final-n`` 10,000 samples against the 10,000
test images (Lucic et al. 2018, "Are GANs Created Equal?"), when ``--split test``. The contenders:

- gankit recipes (``--recipes``, default the 10-minute CPU preset ``dcgan-10min-fashion-mnist``),
  with ``--set KEY=VALUE`` overrides for all of them, trained through gankit's own loop and sampled through
  :func:`gankit.sample` (the EMA of G where the recipe keeps one);
- the textbook loop, written out below in plain PyTorch (not through gankit's trainer): Radford et al. 2016's
  DCGAN at 28 x 28 (G: z 100 -> 256 x 7 x 7 -> 128 x 14 x 14 -> 1 x 28 x 28, batch norm and ReLU, tanh; D: 64 ->
  128 channels, 4 x 4 convolutions of stride 2, LeakyReLU 0.2, batch norm in the second layer, a linear logit),
  the non-saturating loss, Adam (2e-4, betas 0.5, 0.999), batch 64, the training split through gankit's loader.

How the budgets are enforced: a recipe trains with ``train.minutes`` (the loop checks its clock after every step
and stops with a checkpoint), first to the first budget, then resumed (:func:`gankit.resume`, exact on the CPU) for
what is left of the next one, counting the seconds each segment really took (the loop's own clock: from the first
step to the last, without setup and data loading, with the recipe's previews and checkpoints). A recipe that
reaches its ``train.steps`` (or its own ``train.minutes``) earlier stops there: its later budgets keep its last
score. Each resumed segment pays again whatever its first step costs (e.g. ``torch.compile``). The textbook loop
is a ``while`` loop on :func:`time.perf_counter` around its steps, its data already in memory, paused while it is
scored. Scoring time never counts as training time.

Hyper-parameters are chosen on ``--split train`` (the default; gankit's Fashion-MNIST has ``train`` and ``test``
splits, ``gankit.evaluate``'s ``fashion-mnist:SPLIT``); ``--split test`` is for the final table only, which writes
``results.json``, ``table.md`` and ``curve.png`` (other splits: ``results-SPLIT.json`` ...) to ``--out``.

    OMP_NUM_THREADS=1 python benchmarks/time_to_quality.py                       # choosing settings (train split)
    OMP_NUM_THREADS=2 python benchmarks/time_to_quality.py --split test          # the final table
    python benchmarks/time_to_quality.py --recipes NAME --budgets 10,30,60,120 --skip-textbook
    python benchmarks/time_to_quality.py --smoke    # a check of the script (seconds), into a temporary folder

Cost beyond the budgets: the Inception extractor on a 2-core CPU reads a few images per second (faster with the
ONNX Runtime route gankit picks when it is installed), so every score at n = 1,000 and the final one at 10,000 take
minutes each; reference features are cached by gankit.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from common import hardware, write_results  # noqa: E402  (benchmarks/common.py, beside this script)

import gankit  # noqa: E402
from gankit.config import load_config  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.metrics import extract, fid, get_extractor  # noqa: E402
from gankit.metrics.reference import reference_features  # noqa: E402

DATASET = "fashion-mnist"
DEFAULT_RECIPES = "dcgan-10min-fashion-mnist"  # the 10-minute CPU preset
TEXTBOOK = "textbook DCGAN loop"
SAMPLE_SEED = 0  # the same latents for every contender and every budget (and the same real images: seed 0)
# --smoke: every step in seconds (a check of the script, not a result): budgets of about a second, small recipe
# nets, the shipped Fashion-MNIST classifier as the extractor, 100 and 200 samples
SMOKE_SET = ["model.g_width=8", "model.d_width=8", "train.batch_size=16"]


# ---------------------------------------------------------------------------------------------------------------
# The textbook loop: Radford et al. 2016's DCGAN at 28 x 28, as a tutorial writes it
# ---------------------------------------------------------------------------------------------------------------


class TextbookG(nn.Module):
    """z (N x 100) -> images (N x 1 x 28 x 28) in [-1, 1]: project and reshape, two fractional-strided convs."""

    def __init__(self, z_dim: int = 100):
        super().__init__()
        self.z_dim = z_dim
        self.project = nn.Sequential(nn.Linear(z_dim, 256 * 7 * 7, bias=False), nn.Unflatten(1, (256, 7, 7)))
        self.net = nn.Sequential(
            nn.BatchNorm2d(256),
            nn.ReLU(True),  # [N, 256, 7, 7]
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(True),  # [N, 128, 14, 14]
            nn.ConvTranspose2d(128, 1, 4, 2, 1),
            nn.Tanh(),  # [N, 1, 28, 28]; no batch norm at G's output
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z))


class TextbookD(nn.Module):
    """images (N x 1 x 28 x 28) -> logits (N,): two strided convs, no batch norm at the input layer."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1),
            nn.LeakyReLU(0.2, True),  # [N, 64, 14, 14]
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, True),  # [N, 128, 7, 7]
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1),  # the last conv layer flattened into one logit (Radford et al., sec. 3)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


def radford_init(module: nn.Module) -> None:
    """Weights ~ N(0, 0.02); batch-norm scales ~ N(1, 0.02) (Radford et al. 2016, sec. 4). Written out like the
    rest of the textbook loop rather than calling ``gankit.nets.dcgan.dcgan_init``: the baseline must not move
    when gankit's code does."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def textbook_step(G, D, opt_g, opt_d, x_real: torch.Tensor) -> None:
    """One D step then one G step on the same fakes, the non-saturating loss (Goodfellow et al. 2014, sec. 3)."""
    ones, zeros = torch.ones(len(x_real), device=x_real.device), torch.zeros(len(x_real), device=x_real.device)
    x_fake = G(torch.randn(len(x_real), G.z_dim, device=x_real.device))
    opt_d.zero_grad(set_to_none=True)
    # real and fake in separate passes: each batch-norm batch holds one kind, as in the DCGAN reference code
    d_loss = F.binary_cross_entropy_with_logits(D(x_real), ones) + F.binary_cross_entropy_with_logits(
        D(x_fake.detach()), zeros
    )
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad(set_to_none=True)
    F.binary_cross_entropy_with_logits(D(x_fake), ones).backward()  # -log D(G(z)): non-saturating
    opt_g.step()


@torch.no_grad()
def textbook_samples(G: TextbookG, n: int, device: str) -> torch.Tensor:
    """``n`` samples from the latents :func:`gankit.sample` draws (seed SAMPLE_SEED), batch norm in eval mode."""
    G.eval()  # running statistics, as gankit samples: a sample does not depend on its batch
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(SAMPLE_SEED))
    x = torch.cat([G(zb.to(device)).cpu() for zb in z.split(256)])
    G.train()
    return x


def run_textbook(budgets: list[float], score, device: str, seed: int) -> tuple[dict, TextbookG]:
    """Train the textbook loop through ``budgets`` (minutes), scoring it at each; returns (record, G)."""
    torch.manual_seed(seed)
    x = load_dataset(DATASET, split="train").x.to(device)  # in [-1, 1]
    G, D = TextbookG().to(device), TextbookD().to(device)
    radford_init(G)
    radford_init(D)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    batch, order, pos, steps, trained = 64, torch.randperm(len(x)), 0, 0, 0.0
    curve = []
    for budget in budgets:
        start = time.perf_counter()
        while trained + time.perf_counter() - start < 60 * budget:
            if pos + batch > len(x):  # a new epoch (the last partial batch dropped)
                order, pos = torch.randperm(len(x)), 0
            textbook_step(G, D, opt_g, opt_d, x[order[pos : pos + batch].to(device)])
            pos, steps = pos + batch, steps + 1
        trained += time.perf_counter() - start  # the clock stops here: scoring is not training
        curve.append({"budget_minutes": budget, "train_minutes": trained / 60, "steps": steps,
                      **score(textbook_samples(G, score.n, device))})  # fmt: skip
        print(f"{TEXTBOOK}: {curve[-1]}", file=sys.stderr, flush=True)
    record = {"name": TEXTBOOK, "kind": "textbook", "steps": steps, "train_minutes": trained / 60,
              "images_per_s": steps * batch / max(trained, 1e-9), "curve": curve}  # fmt: skip
    return record, G


# ---------------------------------------------------------------------------------------------------------------
# gankit recipes: presets trained by gankit's loop to each budget (train.minutes), resumed between budgets
# ---------------------------------------------------------------------------------------------------------------


def run_recipe(name: str, overrides: list[str], budgets: list[float], score, run_dir: Path, device: str,
               progress: bool) -> dict:  # fmt: skip
    """Train preset ``name`` through ``budgets`` (minutes) in ``run_dir``, scoring it at each; returns its record."""
    cfg = load_config(name, [f"train.device={device}", *overrides])
    cap = 60 * cfg.train.minutes if cfg.train.minutes else math.inf  # the recipe's own wall-clock budget
    trained, images, steps, done, curve = 0.0, 0.0, 0, False, []
    for budget in budgets:
        left = min(60 * budget, cap) - trained
        if not done and left > 0:
            if not curve:  # the first budget: a new run
                cfg.train.minutes = left / 60
                result = gankit.train(cfg, run_dir, progress=progress)
            else:
                result = gankit.resume(run_dir, [f"train.minutes={left / 60}"], progress=progress)
            if result.interrupted:
                raise SystemExit(f"{name}: interrupted at step {result.step}")
            trained, images = trained + result.seconds, images + result.images_per_s * result.seconds
            steps, done = result.step, not result.time_up  # train.steps reached: nothing more to train
            scores = score(gankit.sample(run_dir, n=score.n, seed=SAMPLE_SEED, device=device))
        else:  # the recipe has stopped: the same weights, the same samples, the same score
            scores = {k: v for k, v in curve[-1].items() if k in ("fid", "score_seconds")}
        curve.append({"budget_minutes": budget, "train_minutes": trained / 60, "steps": steps, **scores})
        print(f"{name}: {curve[-1]}", file=sys.stderr, flush=True)
    return {"name": name, "kind": "recipe", "overrides": overrides, "run_dir": str(run_dir), "steps": steps,
            "planned_steps": cfg.train.steps, "train_minutes": trained / 60,
            "images_per_s": images / max(trained, 1e-9), "curve": curve}  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Scoring, the table, the figure
# ---------------------------------------------------------------------------------------------------------------


class Scorer:
    """FID (Heusel et al. 2017) of samples against ``n`` images of a split, in an extractor's features; the real
    images are a seeded subset (the same at every budget), their features cached by gankit."""

    def __init__(self, extractor: str, split: str, n: int):
        self.ex, self.split, self.n = get_extractor(extractor), split, n

    def __call__(self, images: torch.Tensor) -> dict:
        start = time.perf_counter()
        real = reference_features(DATASET, self.split, self.ex, self.n, seed=SAMPLE_SEED)[0]
        fake = extract(self.ex, images)[0]
        return {"fid": fid(fake, real), "score_seconds": time.perf_counter() - start}


def markdown_table(report: dict) -> str:
    budgets, split, final_n = report["budgets_minutes"], report["split"], report["final_n"]
    final = f"FID, n = {final_n:,} vs {split}" if final_n else None
    lines = [
        f"`{report['command']}`: {report['minutes']:.1f} min wall clock on {report['hardware']}.",
        f"Fashion-MNIST, {report['extractor']} FID of {report['n']:,} samples against {report['n']:,} {split} "
        "images after each budget of training wall clock (scoring excluded)"
        + (f"; last column: the last model, {final_n:,} samples against {final_n:,} {split} images" if final else "")
        + f". Published (Inception, 10,000 vs test): {report['anchors']}.",
        "",
        "| contender | " + " | ".join(f"FID @ {b:g} min" for b in budgets) + (f" | {final}" if final else "")
        + " | steps | training min | images/s |",
        "|---|" + "---|" * (len(budgets) + (1 if final else 0) + 3),
    ]  # fmt: skip
    for c in report["contenders"]:
        cells = [f"{p['fid']:.1f}" for p in c["curve"]] + ([f"{c['final']['fid']:.1f}"] if final else [])
        steps = f"{c['steps']}" + (f" of {c['planned_steps']}" if c.get("planned_steps") else "")
        label = f"`{c['name']}`" + (f" `{' '.join(c['overrides'])}`" if c.get("overrides") else "")
        lines.append(f"| {label} | {' | '.join(cells)} | {steps} | {c['train_minutes']:.2f} | "
                     f"{c['images_per_s']:.0f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def plot_curve(report: dict, path: Path) -> None:
    """FID against minutes of training, one line per contender, log FID axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(7, 4.8))
    for b in report["budgets_minutes"]:
        ax.axvline(b, color="0.75", ls=":", lw=1)  # the budgets; a point lands a step (or less) past its line
    for c in report["contenders"]:
        final = f" (last: {c['final']['fid']:.1f} at n = {report['final_n']:,})" if "final" in c else ""
        xs, ys = [p["train_minutes"] for p in c["curve"]], [p["fid"] for p in c["curve"]]
        ax.plot(xs, ys, "o-", label=c["name"] + final)
    ax.set_yscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")  # 300, not 3 x 10^2
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.set_xlim(left=0)
    ax.set_xlabel("training wall clock (minutes; scoring excluded)")
    ax.set_ylabel(f"{report['extractor']} FID, n = {report['n']:,} vs {report['split']} (log)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(f"Time to quality, Fashion-MNIST\n{report['hardware']}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------------------------


def parse_budgets(text: str) -> list[float]:
    budgets = sorted(float(b) for b in text.split(",") if b.strip())
    if not budgets or budgets[0] <= 0:
        raise argparse.ArgumentTypeError(f"--budgets {text}: need positive minutes, e.g. 2,5,10")
    return budgets


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--recipes", default=DEFAULT_RECIPES, help="comma-separated presets or YAML files (%(default)s)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="overrides for every recipe")
    p.add_argument("--skip-textbook", action="store_true", help="the recipes alone (while choosing their settings)")
    p.add_argument("--budgets", type=parse_budgets, default="2,5,10", help="minutes of training (%(default)s)")
    p.add_argument("--n", type=int, default=1000, help="samples (and real images) per score at a budget")
    p.add_argument("--final-n", type=int, default=10_000, help="samples (and real images) of the last score; 0: none")
    p.add_argument(
        "--split",
        choices=("train", "test"),
        default="train",
        help="the real images (default train, for choosing settings; test only for the final table)",
    )
    p.add_argument("--extractor", default="inception", help="gankit's extractor name (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="the textbook loop's seed (a recipe's is its train.seed)")
    p.add_argument("--device", default="cpu", help="every contender's device (default %(default)s)")
    p.add_argument("--runs", default=None, help="where the recipes' runs go (default runs/time-to-quality-DATE)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "time-to-quality"))
    p.add_argument("--progress", action="store_true")
    p.add_argument("--smoke", action="store_true", help="every step in seconds: budgets of ~1 s, tiny recipe nets, "
                   "the Fashion-MNIST classifier as extractor, into a new temporary folder (no result)")  # fmt: skip
    args = p.parse_args(argv)
    if args.smoke:
        tmp = Path(tempfile.mkdtemp(prefix="time-to-quality-smoke-"))
        args.runs, args.out, args.budgets = str(tmp / "runs"), str(tmp / "results"), [0.005, 0.01]
        args.n, args.final_n, args.extractor, args.set = 100, 200, "fashion-mnist-classifier", [*SMOKE_SET, *args.set]
    runs = Path(args.runs or ROOT / "runs" / f"time-to-quality-{time.strftime('%Y%m%d-%H%M%S')}")
    recipes = [r for r in args.recipes.split(",") if r]
    if not recipes and args.skip_textbook:
        p.error("nothing to train: --recipes is empty and --skip-textbook is given")
    score, final_score = Scorer(args.extractor, args.split, args.n), Scorer(args.extractor, args.split, args.final_n)

    start, contenders = time.monotonic(), []
    for i, name in enumerate(recipes):  # one after another: never two contenders on the machine at once
        rec = run_recipe(
            name, args.set, args.budgets, score, runs / f"{i}-{Path(name).stem}", args.device, args.progress
        )
        if args.final_n:
            rec["final"] = final_score(
                gankit.sample(rec["run_dir"], n=args.final_n, seed=SAMPLE_SEED, device=args.device)
            )
        contenders.append(rec)
    if not args.skip_textbook:
        rec, G = run_textbook(args.budgets, score, args.device, args.seed)
        if args.final_n:
            rec["final"] = final_score(textbook_samples(G, args.final_n, args.device))
        contenders.append(rec)

    threads = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} " if "OMP_NUM_THREADS" in os.environ else ""
    command = f"{threads}python benchmarks/time_to_quality.py " + " ".join(argv)
    report = {"benchmark": "time_to_quality", "command": command.strip(), "hardware": hardware(),
              "minutes": (time.monotonic() - start) / 60, "dataset": DATASET, "split": args.split,
              "extractor": args.extractor, "n": args.n, "final_n": args.final_n, "budgets_minutes": args.budgets,
              "anchors": "21.5, the best over GANs with large budgets (Lucic et al. 2018); 15.8, PA-GAN (Zhang et al. "
              "2019)", "contenders": contenders}  # fmt: skip
    suffix = "" if args.split == "test" else f"-{args.split}"
    write_results(args.out, suffix, report, markdown_table(report))
    plot_curve(report, Path(args.out) / f"curve{suffix}.png")
    return report


if __name__ == "__main__":
    main()
