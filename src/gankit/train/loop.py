"""The training loop: the outer loop of Algorithm 1 of Goodfellow et al. 2014, with the bookkeeping around it.

    method.setup(ctx)              # the method takes its batch streams from the training context
    for step in 1..steps:
        method.step()              # one iteration of the method's own updates (a GAN: k + 1 player steps)
        log / preview / evaluate / checkpoint when due

It names no network, objective or logged key: what a step does, what it logs, what its preview shows and
what it scores are the method's (:mod:`gankit.methods`).

Everything a resumed run needs (weights, optimizer states, RNG states, the data position, the
partial logging window) goes into the checkpoint, so a run stopped after step s and resumed
computes exactly what the uninterrupted run computes (on the CPU).
"""

from __future__ import annotations

import math
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from gankit.config import RunConfig
from gankit.data import RunData, load_run_data
from gankit.errors import TrainingDiverged, UserError
from gankit.methods import Method, build_method
from gankit.previews import save_preview
import gankit.train.distributed as distributed
from gankit.train.best import BestKeeper
from gankit.train.checkpoint import find_checkpoint, load_checkpoint, save_checkpoint
from gankit.train.context import TrainContext
from gankit.train.distributed import Dist
from gankit.train.loggers import open_loggers
from gankit.train.rundir import RunDir
from gankit.train.speed import resolve_speed


@dataclass
class TrainResult:
    run_dir: Path
    step: int  # the last completed step
    images_per_s: float
    seconds: float
    interrupted: bool
    last_samples: Path | None  # the last preview written
    time_up: bool = False  # stopped by the wall-clock budget (train.minutes) before train.steps
    planned_steps: int = 0  # train.steps


class LogWindow:
    """Running sums of the logged scalars since the last log line (0-dim tensors: no per-step sync)."""

    def __init__(self, sums: dict[str, float] | None = None, count: int = 0, provisional: bool = False):
        self.sums: dict[str, torch.Tensor | float] = dict(sums or {})
        self.count = count
        # A run's last window, when partial, is logged but kept: a resumed run that goes on un-logs it and
        # logs the whole window at the next log step, as the uninterrupted run does.
        self.provisional = provisional

    def add(self, scalars: dict[str, torch.Tensor]) -> None:
        for k, v in scalars.items():
            self.sums[k] = self.sums.get(k, 0.0) + v.double()
        self.count += 1

    def means(self) -> dict[str, float]:
        return {k: float(v) / self.count for k, v in self.sums.items()}

    def state(self) -> dict:
        sums = {k: float(v) for k, v in self.sums.items()}
        return {"sums": sums, "count": self.count, "provisional": self.provisional}


class _StopOnSigint:
    """First Ctrl-C: finish the current step, checkpoint and stop. Second Ctrl-C: stop at once."""

    def __enter__(self):
        self.requested = False
        self._old = signal.getsignal(signal.SIGINT)
        try:
            signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: leave Ctrl-C alone
            self._old = None
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _rng_state(device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"], device)


def _non_finite(scalars: dict[str, float], method: Method) -> str | None:
    """What is NaN or infinite (a logged scalar, else a weight), or None when all is finite."""
    for key, value in scalars.items():
        if not math.isfinite(value):
            return f"{key} = {value}"
    for name, module in method.modules.items():
        for key, tensor in module.state_dict().items():
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                return f"weight {name}.{key}"
    return None


def _diverged(run: RunDir, step: int, what: str) -> TrainingDiverged:
    try:
        last = f"last good checkpoint {find_checkpoint(run.path)}"
    except UserError:
        last = "no checkpoint was written before it"
    return TrainingDiverged(f"training diverged at step {step} ({what} is not finite); {last}")


def resolve_device(name: str) -> torch.device:
    """The device for one process (``auto``: CUDA when there is one)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"train.device={name}: no CUDA device is available")
    return torch.device(name)


def save_training_state(
    run: RunDir, cfg: RunConfig, step: int, method: Method, ctx: TrainContext, window: LogWindow, dist: Dist
) -> Path | None:
    """Checkpoint the whole training state (weights, optimizers, RNG, streams, log window, the method's own
    state): all that :func:`restore_training_state` needs to continue exactly. Returns the folder (rank 0)."""
    # Every rank takes part in averaging the partial logging window; only rank 0 writes.
    sums = distributed.mean_over_ranks({k: float(v) for k, v in window.sums.items()}, dist, ctx.device)
    if not dist.is_main:
        return None
    state = {
        "data_spec": ctx.data.spec.to_dict(),  # enough to rebuild the method without loading its data
        "optimizers": {k: opt.state_dict() for k, opt in method.optimizers.items()},
        "rng": _rng_state(ctx.device),  # identical on every rank: they draw the same global noise
        "streams": {k: s.state_dict() for k, s in ctx.streams.items()},
        "window": {"sums": sums, "count": window.count, "provisional": window.provisional},
        "method": method.state_dict(),
    }
    return save_checkpoint(run.checkpoints, step, method.modules, state, keep=cfg.train.keep_checkpoints)


def restore_training_state(run: RunDir, method: Method, ctx: TrainContext) -> tuple[int, LogWindow]:
    """Load the newest checkpoint into ``method``, the RNG and the streams; returns (step, logging window)."""
    ckpt = load_checkpoint(run.path)
    for name, module in method.modules.items():
        module.load_state_dict(ckpt.module_state(name))
    for name, opt in method.optimizers.items():
        opt.load_state_dict(ckpt.state["optimizers"][name])
    _set_rng_state(ckpt.state["rng"], ctx.device)
    streams = ckpt.state["streams"] if "streams" in ckpt.state else {"train": ckpt.state["data"]}  # before 0.2
    for name, stream in ctx.streams.items():
        stream.load_state_dict(streams[name])
    method.load_state_dict(ckpt.state["method"])
    return ckpt.step, LogWindow(**ckpt.state["window"])


def train_run(
    cfg: RunConfig,
    run_dir: str | Path,
    resume: bool = False,
    progress: bool = True,
    stop_at: int | None = None,
    data: RunData | None = None,
) -> TrainResult:
    """Train ``cfg`` in ``run_dir`` (resuming from its newest checkpoint when ``resume``).

    ``data``: the parts ``cfg.data`` describes, when the caller holds them already (a study that trains many
    runs on one dataset loads it once); None loads them.

    ``stop_at`` stops after that step with a checkpoint, as an interrupted run does (the schedules still
    run to ``train.steps``): for splitting a run over jobs, and for testing that resuming is exact.

    Under ``torchrun`` this runs in every process: the modules a method trains through ``ctx.wrap``
    (DistributedDataParallel) synchronise their gradients, each process takes its slice of every global
    batch, and only rank 0 writes the run directory.
    """
    dist, device = distributed.setup(cfg.train.device)  # the process group, if any, lives until the process exits
    return _train(cfg, Path(run_dir), resume, progress, dist, device, stop_at, data)


def _train(
    cfg: RunConfig,
    run_dir: Path,
    resume: bool,
    progress: bool,
    dist: Dist,
    device: torch.device,
    stop_at: int | None,
    data: RunData | None,
) -> TrainResult:
    t = cfg.train
    run = RunDir(run_dir)
    data = data or load_run_data(cfg.data)
    speed = resolve_speed(t, device, sum(p.x.numel() * p.x.element_size() for p in data.parts.values()))

    torch.manual_seed(t.seed)  # network initialisation and all training noise; the same on every rank
    method = build_method(cfg, data.spec, device)
    if speed.channels_last:
        for module in method.modules.values():
            module.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # missing from torch's stub
    ctx = TrainContext(
        data,
        device,
        t.batch_size,
        t.steps,
        t.seed,
        dist.rank,
        dist.world_size,
        distributed.wrapper(dist, device, t.sync_batchnorm),
        speed.compile,
        speed.fp16,
        speed.channels_last,
        speed.data_on_device,
    )
    method.setup(ctx)
    window, step = LogWindow(), 0
    if resume:
        step, window = restore_training_state(run, method, ctx)
    main = dist.is_main
    if main:
        run.create(cfg)
    # metrics.csv (always among them) exists from here on, even for a run shorter than log_every
    loggers = open_loggers(t.loggers, run, cfg, step if resume else None) if main else []
    if window.provisional:  # logged as the last, partial window of a run that now goes on: un-log it
        if main:
            run.metrics.clear_at(step, [*window.sums, "images_per_s"])
        window.provisional = False
    if progress and main:
        where = f"{dist.world_size} processes, " if dist.enabled else ""
        print(f"training on {where}{device}: {speed.describe()}", file=sys.stderr)
    best = BestKeeper(run.path / "best", cfg.eval.best_metric) if cfg.eval.eval_every else None

    start = time.monotonic()
    start_step, last_preview, interrupted, diverged, time_up = step, None, False, None, False
    bar = tqdm(
        total=t.steps,
        initial=step,
        desc="training",
        unit="step",
        disable=not (progress and main),
        mininterval=0.5 if sys.stderr.isatty() else 30,
        dynamic_ncols=True,
    )
    with _StopOnSigint() as sigint:
        while step < t.steps:
            with speed.autocast(device):
                window.add(method.step())
            step += 1
            bar.update(1)
            row = {}
            last_partial = step == t.steps and step % t.log_every != 0 and window.count > 0
            if step % t.log_every == 0 or last_partial:  # the last window is logged even when partial
                row = distributed.mean_over_ranks(window.means(), dist, device)
                if last_partial:
                    window.provisional = True
                else:
                    window = LogWindow()
                # Weights and scalars are the same on every rank (averaged), so all ranks stop together.
                if what := _non_finite(row, method):
                    diverged = _diverged(run, step, what)
                    break
                row["images_per_s"] = (step - start_step) * method.images_per_step / max(time.monotonic() - start, 1e-9)
                bar.set_postfix({k: f"{v:.3f}" for k, v in list(row.items())[:4]})  # the method's first columns
            if step % t.sample_every == 0 and main:
                last_preview = save_preview(method.preview(), run.samples / f"step_{step:08d}.png")
            # (other ranks wait at the next collective)
            if best is not None and main and cfg.eval.eval_every and step % cfg.eval.eval_every == 0:
                scores = {f"eval_{k}": v for k, v in method.evaluate().items()}
                row |= scores
                best.update(step, scores.get(f"eval_{cfg.eval.best_metric}"), method.modules, ctx.data.spec)
            if row and main:  # one row per step: the training scalars and the scores when both are due
                for logger in loggers:
                    logger.log(step, row)
            if step % t.checkpoint_every == 0:
                if what := _non_finite({k: float(v) for k, v in window.sums.items()}, method):
                    diverged = _diverged(run, step, what)  # never overwrite a good checkpoint with a poisoned one
                    break
                save_training_state(run, cfg, step, method, ctx, window, dist)
            time_up = t.minutes is not None and time.monotonic() - start > 60 * t.minutes
            # All ranks must stop at the same step, or the next collective would wait forever.
            if distributed.any_rank(sigint.requested or time_up or step == stop_at, dist, device):
                interrupted = not time_up
                break
    bar.close()
    seconds = time.monotonic() - start
    if diverged is not None:
        for logger in loggers:
            logger.close()
        raise diverged
    if step > start_step or not resume:
        if main:
            last_preview = save_preview(method.preview(), run.samples / f"step_{step:08d}.png")
        save_training_state(run, cfg, step, method, ctx, window, dist)
    for logger in loggers:
        logger.close()
    distributed.barrier(dist)  # nobody leaves before rank 0 has written the final checkpoint
    ips = (step - start_step) * method.images_per_step / max(seconds, 1e-9)
    return TrainResult(run.path, step, ips, seconds, interrupted, last_preview, time_up and step < t.steps, t.steps)
