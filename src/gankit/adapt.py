"""``gankit.adapt``: unsupervised domain adaptation with DANN, against its baselines, on a domain pair.

For every seed it trains, on the same networks (:func:`gankit.nets.dann.dann_nets`):

    source_only         G_f + G_y on source labels (a domain classifier watches the features)
    subspace_alignment  Fernando et al. 2013 on source_only's penultimate features
    dann                G_f + G_y + G_d through the gradient reversal layer (:mod:`gankit.methods.dann`)
    target_only         G_f + G_y on the target's training labels (the upper bound)

and reports the target test accuracy of each as mean and std over seeds, the share of the
source-only .. target-only gap that DANN closes, and the figures of :mod:`gankit.methods.dann_figures`.

Example:
    >>> import gankit.adapt
    >>> result = gankit.adapt.adapt("moons", "moons-rotated", out="runs/moons")   # doctest: +SKIP
    >>> result.summary["dann"]["mean"]                                             # doctest: +SKIP
    1.0
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tqdm import tqdm

from gankit.data.domains import DomainPair, load_domain_pair
from gankit.data.jitter import AffineJitter, jitter_images
from gankit.data.stream import BatchStream
from gankit.errors import UserError
from gankit.methods import dann as D
from gankit.methods.dann import FitResult
from gankit.methods.subspace import subspace_alignment_accuracy
from gankit.nets.dann import DANNNets, dann_nets
from gankit.train.checkpoint import save_checkpoint
from gankit.train.rundir import MetricsLog

METHODS = ("source_only", "subspace_alignment", "dann", "target_only")
TRAINED = ("source_only", "dann", "target_only")

# Per kind of data, the settings left at None in the config. Chosen so each image pair runs in
# under 15 minutes on a shared 2-core CPU; the JMLR paper uses lr0 = 0.01 and batches of 128 (64 + 64).
PRESETS: dict[str, dict[str, Any]] = {
    "image": {"steps": 2500, "batch_size": 64, "lr": 0.05, "width": 16, "eval_every": 100, "separate_bn": True, "augment": False, "lambda_max": 1.0, "bottleneck": 0},
    "vector": {"steps": 3000, "batch_size": 64, "lr": 0.05, "width": 32, "eval_every": 100, "separate_bn": False, "augment": False, "lambda_max": 1.0, "bottleneck": 0},
}
# Per (source, target) pair, on top of its kind's preset. digits -> mnist: without a bottleneck the
# domain classifier still tells the 512 conv features of blurred 8 x 8 digits from MNIST's apart
# (error 0.25-0.35); a 128-unit bottleneck lets the reversal hide the domain (error 0.45-0.5), and
# the alignment needs more steps (docs/adapt.md, "Results on this CPU").
PAIR_PRESETS: dict[tuple[str, str], dict[str, Any]] = {
    ("digits", "mnist"): {"bottleneck": 128, "steps": 4000},
}


class AdaptConfig(BaseModel):
    """The settings of one ``gankit adapt`` run. ``None`` takes the pair's preset (:data:`PAIR_PRESETS`, then :data:`PRESETS`)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    source: str
    target: str
    seeds: int = Field(3, gt=0)  # training seeds 0 .. seeds-1
    data_seed: int = 0  # splits, MNIST-M patches and moons samples
    methods: list[Literal["source_only", "subspace_alignment", "dann", "target_only"]] = list(METHODS)
    steps: int | None = Field(None, gt=0)  # SGD steps per method and seed
    batch_size: int | None = Field(None, ge=2)  # items per step: half source, half target
    lr: float | None = Field(None, gt=0)  # mu_0
    momentum: float = Field(0.9, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    gamma: float = Field(10.0, ge=0)  # lambda_p = 2 / (1 + exp(-gamma p)) - 1
    lambda_max: float | None = Field(None, ge=0)  # scales lambda_p (preset 1.0)
    alpha: float = Field(10.0, ge=0)  # mu_p = mu_0 / (1 + alpha p)^beta
    beta: float = Field(0.75, ge=0)
    width: int | None = Field(None, gt=0)  # vectors: hidden units; images: channels of the first conv
    hidden: int = Field(100, gt=0)  # hidden units of the label and domain heads (images)
    domain_layers: int = Field(1, gt=0)  # hidden layers of the domain classifier (images)
    dropout: float = Field(0.1, ge=0, lt=1)  # channel dropout at the end of the image feature extractor
    bottleneck: int | None = Field(None, ge=0)  # > 0: a Linear+BN+ReLU layer of this width ends the image feature extractor
    img_size: int | None = Field(None, ge=16)
    sa_dim: int = Field(20, gt=0)  # subspace alignment's d
    sa_classifier: Literal["logistic", "1nn"] = "logistic"
    eval_every: int | None = Field(None, gt=0)  # steps between target-accuracy evaluations
    log_every: int = Field(25, gt=0)
    separate_bn: bool | None = None  # pass source and target through G_f separately (per-domain batch statistics)
    augment: bool | None = None  # random affine jitter of the labelled source batch (gankit.data.jitter)
    aug_shift: float = Field(2.0, ge=0)  # pixels
    aug_rotate: float = Field(10.0, ge=0)  # degrees
    aug_scale: float = Field(0.1, ge=0, lt=1)
    aug_aspect: float = Field(0.1, ge=0, lt=1)
    aug_shear: float = Field(0.1, ge=0)
    feature_plot: Literal["pca", "tsne"] = "pca"
    device: str = "cpu"

    def resolved(self, pair: DomainPair) -> AdaptConfig:
        """A copy with every ``None`` preset filled in: the pair's own (:data:`PAIR_PRESETS`), then its kind's."""
        preset = PRESETS["image" if pair.is_image else "vector"] | PAIR_PRESETS.get((self.source, self.target), {})
        return self.model_copy(update={k: v for k, v in preset.items() if getattr(self, k) is None})

    def jitter(self) -> AffineJitter:
        """The source augmentation's bounds (the identity when ``augment`` is off)."""
        if not self.augment:
            return AffineJitter()
        return AffineJitter(self.aug_shift, self.aug_rotate, self.aug_scale, self.aug_aspect, self.aug_shear)


@dataclass
class AdaptResult:
    out: Path
    summary: dict[str, dict[str, Any]]  # method -> {"mean", "std", "per_seed"}
    gap_closed: float | None
    seconds: float
    figures: list[Path]


def make_config(source: str, target: str, **settings: Any) -> AdaptConfig:
    """Validate settings into an :class:`AdaptConfig`; problems are one-line :class:`UserError`\\ s."""
    try:
        return AdaptConfig(source=source, target=target, **settings)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            raise UserError(f"unknown adapt setting '{key}'") from None
        raise UserError(f"adapt setting '{key}': {err['msg']} (got {err.get('input')!r})") from None


# ----------------------------------------------------------------------------- one method, one seed


def _device(name: str) -> torch.device:
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device={name}: no CUDA device is available")
    return torch.device(name)


def fit(method: str, pair: DomainPair, cfg: AdaptConfig, seed: int, run_dir: Path | None = None, progress: bool = False) -> FitResult:
    """Train ``method`` (``source_only``, ``dann`` or ``target_only``) on ``pair`` with training seed ``seed``.

    Args:
        method: which objective (see the module docstring).
        pair: the data (its tensors are moved to ``cfg.device``).
        cfg: a resolved :class:`AdaptConfig` (no ``None`` presets left).
        seed: seeds the network initialisation and the batch order.
        run_dir: where to write ``metrics.csv``, ``tb/`` and ``checkpoints/`` (None: nothing written).
        progress: show a progress bar.

    Returns:
        A :class:`FitResult` with the networks, the final target test accuracy and the logged history.
    """
    device = _device(cfg.device)
    torch.manual_seed(seed)
    nets = dann_nets(pair.shape, len(pair.classes), width=cfg.width, hidden=cfg.hidden, domain_layers=cfg.domain_layers, dropout=cfg.dropout, bottleneck=cfg.bottleneck).to(device)
    opt = D.make_optimizer(nets, cfg.lr, cfg.momentum, cfg.weight_decay)
    half = cfg.batch_size // 2
    labelled = pair.target if method == "target_only" else pair.source
    if half > min(len(labelled), len(pair.target)):
        raise UserError(f"batch_size={cfg.batch_size}: half a batch exceeds the {min(len(labelled), len(pair.target))} items of a domain")
    main = BatchStream(labelled, half, seed=seed, device=device)
    other = BatchStream(pair.target, half, seed=seed + 7919, device=device)  # unlabelled target batches
    x_test, y_test = pair.target_test.x.to(device), pair.target_test.y.to(device)
    if cfg.augment and not pair.is_image:
        raise UserError(f"augment=true: the affine jitter needs images, and {pair.name} holds vectors")
    # Jitter the labelled source batch only: target items, labelled or not, stay as they are.
    jitter = cfg.jitter() if method != "target_only" else AffineJitter()
    aug_gen = torch.Generator().manual_seed(seed + 104_729)

    metrics = tb = None
    if run_dir is not None:
        from torch.utils.tensorboard import SummaryWriter  # slow import: only when writing a run

        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "metrics.csv").unlink(missing_ok=True)
        metrics, tb = MetricsLog(run_dir / "metrics.csv"), SummaryWriter(str(run_dir / "tb"))

    history: list[dict[str, float]] = []
    sums: dict[str, torch.Tensor] = {}
    count, start = 0, time.monotonic()
    bar = tqdm(range(cfg.steps), desc=f"{method} seed {seed}", unit="step", disable=not progress, leave=False, mininterval=0.5 if sys.stderr.isatty() else 30)
    for step in bar:
        s = D.schedule_state(step, cfg.steps, cfg.lr, cfg.gamma, cfg.alpha, cfg.beta, cfg.lambda_max)
        D.set_lr(opt, s["lr"])
        x, y = next(main)
        x = jitter_images(x, jitter, aug_gen)
        if method == "target_only":
            stats = D.supervised_step(nets, opt, x, y)
        elif method == "source_only":
            stats = D.source_only_step(nets, opt, x, y, next(other)[0])
        else:
            stats = D.dann_step(nets, opt, x, y, next(other)[0], lambd=s["lambda"], separate_bn=cfg.separate_bn)
        for k, v in stats.items():
            sums[k] = sums.get(k, 0.0) + v
        count += 1
        done = step + 1
        if done % cfg.log_every == 0 or done % cfg.eval_every == 0 or done == cfg.steps:
            row = {k: float(v) / count for k, v in sums.items()} | {"lambda": s["lambda"] if method == "dann" else 0.0, "lr": s["lr"]}
            sums, count = {}, 0
            if done % cfg.eval_every == 0 or done == cfg.steps:
                row["target_acc"] = D.accuracy(nets, x_test, y_test)
            history.append({"step": done, **row})
            if metrics is not None:
                metrics.log(done, row)
                for k, v in row.items():
                    tb.add_scalar(k, v, done)
    bar.close()
    seconds = time.monotonic() - start
    acc = history[-1]["target_acc"]
    if run_dir is not None:
        tb.close()
        state = {"optimizer": opt.state_dict(), "method": method, "seed": seed, "target_acc": acc}
        save_checkpoint(run_dir / "checkpoints", cfg.steps, nets.modules(), state, keep=1)
    return FitResult(nets, acc, seconds, history)


# ----------------------------------------------------------------------------- the whole comparison


def _features(nets: DANNNets, x: torch.Tensor) -> np.ndarray:
    return nets.embed(x).cpu().double().numpy()


def _summary(per_seed: list[float]) -> dict[str, Any]:
    a = np.asarray(per_seed, dtype=np.float64)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0, "per_seed": [float(v) for v in a]}


def gap_closed(source_only: float, dann: float, target_only: float) -> float | None:
    """(dann - source_only) / (target_only - source_only): the share of the domain gap DANN closes."""
    gap = target_only - source_only
    return None if abs(gap) < 1e-12 else (dann - source_only) / gap


def adapt(source: str, target: str, out: str | Path | None = None, *, seeds: int = 3, progress: bool = True, **settings: Any) -> AdaptResult:
    """Compare source only, subspace alignment, DANN and target only on a domain pair.

    Args:
        source: the labelled domain, e.g. ``mnist``, ``moons``, ``digits``, ``folder:PATH``.
        target: the unlabelled domain, e.g. ``mnist-m``, ``moons-rotated``, ``mnist``, ``folder:PATH``.
        out: the output directory (default ``runs/adapt-<source>-<target>-<time>``).
        seeds: training seeds per method (0 .. seeds-1).
        progress: show progress bars.
        **settings: any field of :class:`AdaptConfig` (``steps=``, ``lr=``, ``methods=[...]``, ...).

    Returns:
        An :class:`AdaptResult`; ``out`` holds ``config.yaml``, ``results.json``, ``results.md``,
        the figures and one sub-directory per method and seed (``metrics.csv``, ``tb/``, ``checkpoints/``).
    """
    from gankit.methods import dann_figures

    cfg = make_config(source, target, seeds=seeds, **settings)
    t0 = time.monotonic()
    pair = load_domain_pair(cfg.source, cfg.target, seed=cfg.data_seed, img_size=cfg.img_size)
    cfg = cfg.resolved(pair)
    if "subspace_alignment" in cfg.methods and "source_only" not in cfg.methods:
        raise UserError("methods: subspace_alignment works on source_only's features; add source_only")
    slug = lambda s: s.replace("folder:", "").replace("/", "-").strip("-")  # noqa: E731
    out = Path(out) if out else Path("runs") / f"adapt-{slug(source)}-{slug(target)}-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".config.yaml.tmp"
    tmp.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    os.replace(tmp, out / "config.yaml")

    runs: dict[str, list[FitResult]] = {m: [] for m in TRAINED if m in cfg.methods}
    accs: dict[str, list[float]] = {m: [] for m in cfg.methods}
    seconds: dict[str, float] = {m: 0.0 for m in cfg.methods}
    jobs = [(seed, m) for seed in range(cfg.seeds) for m in runs]
    bar = tqdm(jobs, desc=f"adapt {pair.name}", unit="run", disable=not progress, mininterval=0.5 if sys.stderr.isatty() else 30)
    for seed, method in bar:
        bar.set_postfix_str(f"{method} seed {seed}")
        r = fit(method, pair, cfg, seed, out / method / f"seed{seed}", progress=progress)
        runs[method].append(r)
        accs[method].append(r.target_acc)
        seconds[method] += r.seconds
        if method == "source_only" and "subspace_alignment" in cfg.methods:
            t = time.monotonic()
            accs["subspace_alignment"].append(
                subspace_alignment_accuracy(
                    _features(r.nets, pair.source.x), pair.source.y.numpy(), _features(r.nets, pair.target.x),
                    _features(r.nets, pair.target_test.x), pair.target_test.y.numpy(), dim=cfg.sa_dim, classifier=cfg.sa_classifier, seed=seed,
                )
            )  # fmt: skip
            seconds["subspace_alignment"] += time.monotonic() - t
    bar.close()

    summary = {m: _summary(accs[m]) | {"seconds": round(seconds[m], 1)} for m in cfg.methods}
    gap = None
    if all(m in summary for m in ("source_only", "dann", "target_only")):
        gap = gap_closed(summary["source_only"]["mean"], summary["dann"]["mean"], summary["target_only"]["mean"])
    figures = dann_figures.make_figures(out, pair, runs, cfg.feature_plot)
    total = time.monotonic() - t0
    result = AdaptResult(out, summary, gap, total, figures)
    write_results(result, cfg, pair)
    return result


def write_results(result: AdaptResult, cfg: AdaptConfig, pair: DomainPair) -> None:
    """``results.json`` and ``results.md`` in the output directory."""
    data = {
        "source": cfg.source,
        "target": cfg.target,
        "seeds": list(range(cfg.seeds)),
        "metric": "target test accuracy",
        "items": {"source": len(pair.source), "target": len(pair.target), "target_test": len(pair.target_test)},
        "results": result.summary,
        "dann_gap_closed": result.gap_closed,
        "seconds": round(result.seconds, 1),
    }
    (result.out / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = [
        f"# Domain adaptation: {cfg.source} -> {cfg.target}",
        "",
        f"Target test accuracy (mean ± std over {cfg.seeds} seeds; {len(pair.source)} source, {len(pair.target)} target, {len(pair.target_test)} target test items).",
        "",
        "| method | accuracy | per seed | seconds |",
        "| --- | --- | --- | --- |",
    ]
    for m, s in result.summary.items():
        lines.append(f"| {m} | {s['mean']:.3f} ± {s['std']:.3f} | {', '.join(f'{v:.3f}' for v in s['per_seed'])} | {s['seconds']:.0f} |")
    if result.gap_closed is not None:
        lines += ["", f"DANN closes {100 * result.gap_closed:.0f}% of the gap between source only and target only."]
    lines += ["", f"Total time: {result.seconds:.0f} s. Figures: {', '.join(p.name for p in result.figures)}.", ""]
    (result.out / "results.md").write_text("\n".join(lines))
