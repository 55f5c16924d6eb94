"""``gankit adapt``: a study of unsupervised domain adaptation, DANN against its baselines, on a domain pair.

For every seed it trains, through the shared training loop (``method: dann`` with one ``dann.variant``
per run, each a regular run directory under ``out/<variant>/seed<k>/``):

    source_only         G_f + G_y on source labels (a domain classifier watches the features)
    adabn               source_only's networks with batch-norm statistics recomputed on the target's unlabelled
                        training items (AdaBN, Li et al. 2016; no training): the gain of per-domain normalisation
                        alone, which DANN's per-domain statistics (``dann.separate_bn``) also bring
    subspace_alignment  Fernando et al. 2013 on source_only's penultimate features (no training)
    dann                G_f + G_y + G_d through the gradient reversal layer (:mod:`gankit.methods.dann`)
    target_only         G_f + G_y on the target's training labels (the upper bound)

and reports the target test accuracy of each as mean and std over seeds, the share of the
source-only .. target-only gap that DANN closes, and the figures of :mod:`gankit.methods.dann_figures`.
The run config starts from the pair's shipped preset (:data:`PAIR_PRESETS`: ``dann-moons``,
``dann-mnist-m``, ``dann-digits-mnist``) or one of your own, with ``KEY=VALUE`` overrides on top.

Example:
    >>> import gankit.adapt
    >>> result = gankit.adapt.adapt("moons", "moons-rotated", out="runs/moons")   # doctest: +SKIP
    >>> result.summary["dann"]["mean"]                                             # doctest: +SKIP
    0.955
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field
from tqdm import tqdm

from gankit.config import RunConfig, Section, apply_overrides, load_config, to_yaml, validate, validate_section
from gankit.data.domains import DomainPair, load_domain_pair
from gankit.errors import UserError
from gankit.methods.dann import FitResult, accuracy
from gankit.methods.subspace import subspace_alignment_accuracy
from gankit.nets.dann import DANNNets
from gankit.train import train_run
from gankit.train.restore import load_method

Variant = Literal["source_only", "adabn", "subspace_alignment", "dann", "target_only"]
METHODS: tuple[Variant, ...] = ("source_only", "adabn", "subspace_alignment", "dann", "target_only")
NEEDS_SOURCE_ONLY = ("adabn", "subspace_alignment")  # computed from source_only's trained networks
TRAINED = ("source_only", "dann", "target_only")
VECTOR_DOMAINS = ("moons", "moons-rotated")
# The shipped run config each pair starts from; other pairs take their kind's (vectors or images).
# digits -> mnist: without a bottleneck the domain classifier still tells the 512 conv features of
# blurred 8 x 8 digits from MNIST's apart (error 0.25-0.35); its preset ends G_f with a 128-unit
# bottleneck and trains longer (docs/adapt.md, "Results on this CPU").
PAIR_PRESETS: dict[tuple[str, str], str] = {
    ("moons", "moons-rotated"): "dann-moons",
    ("mnist", "mnist-m"): "dann-mnist-m",
    ("digits", "mnist"): "dann-digits-mnist",
}


class StudyConfig(Section):
    """The study's own settings (the runs' settings are run-config keys, ``dann.lr=0.02`` etc.)."""

    seeds: int = Field(3, gt=0)  # training seeds 0 .. seeds-1
    methods: list[Variant] = list(METHODS)
    sa_dim: int = Field(20, gt=0)  # subspace alignment's d
    sa_classifier: Literal["logistic", "1nn"] = "logistic"
    feature_plot: Literal["pca", "tsne"] = "pca"


@dataclass
class AdaptResult:
    out: Path
    summary: dict[str, dict[str, Any]]  # method -> {"mean", "std", "per_seed", "seconds"}
    gap_closed: float | None
    seconds: float
    figures: list[Path]


def preset_for(source: str, target: str) -> str:
    """The shipped run config a pair starts from."""
    if (source, target) in PAIR_PRESETS:
        return PAIR_PRESETS[(source, target)]
    return "dann-moons" if source in VECTOR_DOMAINS or target in VECTOR_DOMAINS else "dann-mnist-m"


def study_config(
    source: str, target: str, config: str | Path | None = None, overrides: list[str] | None = None
) -> RunConfig:
    """The run config of every run of the study: the preset (or ``config``), the pair, then ``overrides``."""
    cfg = load_config(
        config or preset_for(source, target), [f"data.name={source}", f"data.target={target}", *(overrides or [])]
    )
    if cfg.method != "dann":
        raise UserError(f"{config}: gankit adapt trains method dann, and this config has method {cfg.method}")
    return cfg


def fit(cfg: RunConfig, variant: str, seed: int, run_dir: Path, pair: DomainPair) -> FitResult:
    """Train one variant with one training seed as a regular run in ``run_dir`` (replaced if it exists)."""
    run_cfg = validate(apply_overrides(cfg.model_dump(mode="json"), [f"dann.variant={variant}", f"train.seed={seed}"]))
    shutil.rmtree(run_dir, ignore_errors=True)  # the study's own output: a rerun starts it afresh
    result = train_run(run_cfg, run_dir, progress=False, data=pair.run_data())  # the pair loaded once per study
    method, _ = load_method(run_dir)  # the trained networks, read back from the run directory (on the CPU)
    nets: DANNNets = method.nets
    assert pair.target_test.y is not None  # domain pairs are labelled
    acc = accuracy(nets, pair.target_test.x, pair.target_test.y)
    return FitResult(nets, acc, result.seconds, read_history(run_dir))


def read_history(run_dir: Path) -> list[dict[str, float]]:
    """The rows of a run's ``metrics.csv`` as floats (``eval_target_acc`` as ``target_acc``), empty cells left out."""
    with open(run_dir / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k.removeprefix("eval_"): float(v) for k, v in r.items() if v != ""} for r in rows]


def _features(nets: DANNNets, x) -> np.ndarray:
    return nets.embed(x).cpu().double().numpy()


def _summary(per_seed: list[float]) -> dict[str, Any]:
    a = np.asarray(per_seed, dtype=np.float64)
    return {
        "mean": float(a.mean()),
        "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
        "per_seed": [float(v) for v in a],
    }


def gap_closed(source_only: float, dann: float, target_only: float) -> float | None:
    """(dann - source_only) / (target_only - source_only): the share of the domain gap DANN closes."""
    gap = target_only - source_only
    return None if abs(gap) < 1e-12 else (dann - source_only) / gap


def adapt(
    source: str,
    target: str,
    out: str | Path | None = None,
    *,
    config: str | Path | None = None,
    overrides: list[str] | None = None,
    progress: bool = True,
    **study: Any,
) -> AdaptResult:
    """Compare source only, subspace alignment, DANN and target only on a domain pair.

    Args:
        source: the labelled domain, e.g. ``mnist``, ``moons``, ``digits``, ``folder:PATH``.
        target: the unlabelled domain, e.g. ``mnist-m``, ``moons-rotated``, ``mnist``, ``folder:PATH``.
        out: the output directory (default ``runs/adapt-<source>-<target>-<time>``).
        config: the run config to start from (default: the pair's preset, :func:`preset_for`).
        overrides: ``KEY=VALUE`` run-config overrides, e.g. ``["dann.lr=0.02", "train.steps=1000"]``.
        progress: show a progress bar over the runs.
        **study: fields of :class:`StudyConfig` (``seeds=``, ``methods=[...]``, ``sa_dim=``, ...).

    Returns:
        An :class:`AdaptResult`; ``out`` holds ``config.yaml`` (the runs' config), ``results.json``,
        ``results.md``, the figures and one run directory per method and seed.
    """
    from gankit.methods import dann_figures

    s: StudyConfig = validate_section(StudyConfig, study, "study settings")
    cfg = study_config(source, target, config, overrides)
    for m in NEEDS_SOURCE_ONLY:
        if m in s.methods and "source_only" not in s.methods:
            raise UserError(f"methods: {m} works on source_only's networks; add source_only")
    t0 = time.monotonic()
    assert cfg.data.target is not None  # study_config sets it
    pair = load_domain_pair(
        cfg.data.name, cfg.data.target, seed=cfg.data.seed, img_size=cfg.data.img_size, photos=cfg.data.photos
    )
    slug = lambda name: name.replace("folder:", "").replace("/", "-").strip("-")  # noqa: E731
    out = Path(out) if out else Path("runs") / f"adapt-{slug(source)}-{slug(target)}-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    (out / ".config.yaml.tmp").write_text(to_yaml(cfg))
    (out / ".config.yaml.tmp").replace(out / "config.yaml")

    runs: dict[str, list[FitResult]] = {m: [] for m in TRAINED if m in s.methods}
    accs: dict[str, list[float]] = {m: [] for m in s.methods}
    seconds: dict[str, float] = {m: 0.0 for m in s.methods}
    jobs = [(seed, m) for seed in range(s.seeds) for m in runs]
    bar = tqdm(
        jobs,
        desc=f"adapt {pair.name}",
        unit="run",
        disable=not progress,
        mininterval=0.5 if sys.stderr.isatty() else 30,
    )
    for seed, variant in bar:
        bar.set_postfix_str(f"{variant} seed {seed}")
        r = fit(cfg, variant, seed, out / variant / f"seed{seed}", pair)
        runs[variant].append(r)
        accs[variant].append(r.target_acc)
        seconds[variant] += r.seconds
        if variant == "source_only" and "adabn" in s.methods:
            t = time.monotonic()
            assert pair.target_test.y is not None
            on_target = r.nets.with_batch_statistics(pair.target.x)  # target items only, never their labels
            accs["adabn"].append(accuracy(on_target, pair.target_test.x, pair.target_test.y))
            seconds["adabn"] += time.monotonic() - t
        if variant == "source_only" and "subspace_alignment" in s.methods:
            assert pair.source.y is not None and pair.target_test.y is not None  # domain pairs are labelled
            t = time.monotonic()
            accs["subspace_alignment"].append(
                subspace_alignment_accuracy(
                    _features(r.nets, pair.source.x), pair.source.y.numpy(), _features(r.nets, pair.target.x),
                    _features(r.nets, pair.target_test.x), pair.target_test.y.numpy(), dim=s.sa_dim,
                    classifier=s.sa_classifier, seed=seed,
                )
            )  # fmt: skip
            seconds["subspace_alignment"] += time.monotonic() - t
    bar.close()

    summary: dict[str, dict[str, Any]] = {m: _summary(accs[m]) | {"seconds": round(seconds[m], 1)} for m in s.methods}
    gap = None
    if all(m in summary for m in ("source_only", "dann", "target_only")):
        gap = gap_closed(summary["source_only"]["mean"], summary["dann"]["mean"], summary["target_only"]["mean"])
    figures = dann_figures.make_figures(out, pair, runs, s.feature_plot)
    result = AdaptResult(out, summary, gap, time.monotonic() - t0, figures)
    write_results(result, source, target, s.seeds, pair)
    return result


def write_results(result: AdaptResult, source: str, target: str, seeds: int, pair: DomainPair) -> None:
    """``results.json`` and ``results.md`` in the output directory."""
    data = {
        "source": source,
        "target": target,
        "seeds": list(range(seeds)),
        "metric": "target test accuracy",
        "items": {"source": len(pair.source), "target": len(pair.target), "target_test": len(pair.target_test)},
        "results": result.summary,
        "dann_gap_closed": result.gap_closed,
        "seconds": round(result.seconds, 1),
    }
    (result.out / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    lines = [
        f"# Domain adaptation: {source} -> {target}",
        "",
        f"Target test accuracy (mean ± std over {seeds} seeds; {len(pair.source)} source, {len(pair.target)} target, "
        f"{len(pair.target_test)} target test items).",
        "",
        "| method | accuracy | per seed | seconds |",
        "| --- | --- | --- | --- |",
    ]
    for m, s in result.summary.items():
        lines.append(
            f"| {m} | {s['mean']:.3f} ± {s['std']:.3f} | {', '.join(f'{v:.3f}' for v in s['per_seed'])} "
            f"| {s['seconds']:.0f} |"
        )
    if result.gap_closed is not None:
        lines += ["", f"DANN closes {100 * result.gap_closed:.0f}% of the gap between source only and target only."]
    lines += ["", f"Total time: {result.seconds:.0f} s. Figures: {', '.join(p.name for p in result.figures)}.", ""]
    (result.out / "results.md").write_text("\n".join(lines))
