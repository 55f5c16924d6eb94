"""One live GAN run on a toy distribution: the state behind ``gankit lab serve``, without the web.

A :class:`LiveSession` is the training loop of :mod:`gankit.train.loop` taken apart so that a page can drive it:
the same method (``build_method`` -> the GAN's ``step`` with its ``d_step``/``g_step``), the same
:class:`gankit.train.context.TrainContext` and batch stream, the same logging window, and the same checkpoint
(:meth:`LiveSession.save` writes a run directory that ``gankit train --resume DIR --steps N`` continues, and
:meth:`LiveSession.load` reopens one). What the loop does not have: parameters that change between two steps.

A change of the loss, the learning rates, k (``gan.d_steps``), the batch size or the unrolled remedy keeps the
networks: the method is rebuilt from the new config and given the running state (weights, optimizer moments,
the stream's position, the method's own state), which is what resuming a checkpoint under the new config does.
A change of the toy, the seed or a remedy that changes D's architecture (minibatch discrimination, PacGAN)
starts a new run at step 0.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Iterator, Literal, cast

import torch
from pydantic import ValidationError

from gankit.config import RunConfig, Section, apply_overrides, explain, validate
from gankit.data import TensorData, load_dataset
from gankit.errors import UserError
from gankit.lab.toytrain import TOY_DEFAULTS
from gankit.losses import LOSSES
from gankit.methods import Method, build_method
from gankit.methods.gan import GAN
from gankit.previews import save_preview
from gankit.train.checkpoint import find_checkpoint
from gankit.train.context import TrainContext
from gankit.train.distributed import Dist
# The loop's own checkpoint layout and log window, so that `gankit train --resume` continues a page's run.
from gankit.train.loop import LogWindow, restore_training_state, save_training_state
from gankit.train.restore import run_config
from gankit.train.rundir import RunDir

TOYS = ("ring", "grid", "moons", "spiral", "mog-1d")
# model.data_scale per toy: the MLPs work in unit range (G emits s * output, D sees x / s); the grid spans +-4.
DATA_SCALE = {"ring": 1.0, "grid": 4.0, "moons": 1.0, "spiral": 2.0, "mog-1d": 2.0}
# The remedies for collapse (gankit.methods.remedies) as the config switches `gankit train` takes; every one
# sets all three keys, so picking "none" after "pacgan2" switches packing off again.
REMEDIES: dict[str, list[str]] = {
    "none": ["model.minibatch_kernels=0", "gan.pack=1", "gan.unrolled_steps=0"],
    "minibatch": ["model.minibatch_kernels=8", "model.minibatch_kernel_dim=3", "gan.pack=1", "gan.unrolled_steps=0"],
    "pacgan2": ["model.minibatch_kernels=0", "gan.pack=2", "gan.unrolled_steps=0"],
    "pacgan4": ["model.minibatch_kernels=0", "gan.pack=4", "gan.unrolled_steps=0"],
    "unrolled": ["model.minibatch_kernels=0", "gan.pack=1", "gan.unrolled_steps=5"],
}
# Page parameter -> config key (the remedy maps to several keys, above).
KEYS = {
    "toy": "data.name",
    "loss": "gan.loss",
    "g_lr": "optim.g_lr",
    "d_lr": "optim.d_lr",
    "d_steps": "gan.d_steps",
    "batch_size": "train.batch_size",
    "seed": "train.seed",
}
LOG_EVERY = 10  # steps per point of the loss curves (the mean over them, as metrics.csv logs)


def page_losses() -> list[str]:
    """The losses of :data:`gankit.losses.LOSSES` that an MLP D can take (BEGAN needs an auto-encoder D)."""
    return sorted(name for name, loss in LOSSES.items() if not loss.autoencoder)


class LiveParams(Section):
    """What the page sets. Types are checked here; values (lr > 0, pack divides the batch) by the run config."""

    toy: Literal["ring", "grid", "moons", "spiral", "mog-1d"] = "ring"
    loss: str = "non-saturating"
    g_lr: float = 1e-3
    d_lr: float = 1e-3
    d_steps: int = 1  # k discriminator steps per generator step
    batch_size: int = 128
    remedy: Literal["none", "minibatch", "pacgan2", "pacgan4", "unrolled"] = "none"
    seed: int = 0

    def structure(self) -> tuple:
        """What the networks depend on: a change of it starts a new run (the unrolled GAN only changes G's step)."""
        return self.toy, self.seed, self.remedy if self.remedy in ("minibatch", "pacgan2", "pacgan4") else "none"


def field_of(message: str) -> str | None:
    """The page parameter an error message names (for the page to mark the field), if any."""
    for param, key in KEYS.items():
        if f"'{key}'" in message or f"{key}=" in message or f"'{param}'" in message:
            return param
    if "gan.pack" in message:
        return "batch_size"
    return None


def _overrides(p: LiveParams) -> list[str]:
    return [f"{KEYS[k]}={getattr(p, k)}" for k in KEYS] + REMEDIES[p.remedy]


def params_of(cfg: RunConfig) -> LiveParams:
    """The page parameters of a run config (a run that :meth:`LiveSession.save` wrote, or a toy GAN run)."""
    if cfg.method != "gan" or cfg.data.name not in TOYS or cfg.model.arch != "mlp":
        raise UserError(
            f"the live page shows GANs with model.arch=mlp on {', '.join(TOYS)}; this run is method={cfg.method} "
            f"on data.name={cfg.data.name}"
        )
    g, m = cfg.gan, cfg.model
    switches = (m.minibatch_kernels > 0, g.pack, g.unrolled_steps)
    remedy = {(False, 1, 0): "none", (True, 1, 0): "minibatch", (False, 2, 0): "pacgan2", (False, 4, 0): "pacgan4"}
    if switches not in remedy and not (switches[:2] == (False, 1) and g.unrolled_steps > 0):
        raise UserError(
            f"the live page shows one remedy at a time; this run has (minibatch, pack, unrolled) = {switches}"
        )
    return LiveParams(
        toy=cfg.data.name,
        loss=g.loss,
        g_lr=cfg.optim.g_lr,
        d_lr=cfg.optim.d_lr,
        d_steps=g.d_steps,
        batch_size=cfg.train.batch_size,
        remedy=remedy.get(switches, "unrolled"),
        seed=cfg.train.seed,
    )


class LiveSession:
    """A GAN training on a toy, one step at a time, with parameters that change between steps.

    Not thread-safe: the server calls it under one lock. Every random draw of training comes from the
    session's own copy of torch's global RNG (put in place for each call of :meth:`train`), so nothing else
    in the process (the page's views, other runs) changes what the run computes.

    Args:
        params: the page's parameters.
        base: the config mapping the parameters apply to (default: :data:`gankit.lab.toytrain.TOY_DEFAULTS`
            with a curve point every :data:`LOG_EVERY` steps); a reopened run passes its own.
    """

    def __init__(self, params: LiveParams | None = None, base: dict[str, Any] | None = None):
        params = params or LiveParams()
        if base is None:
            base = apply_overrides(TOY_DEFAULTS, [f"train.log_every={LOG_EVERY}"])
            base = apply_overrides(base, [f"model.data_scale={DATA_SCALE[params.toy]}"])
        self.base = base  # what the page does not set (widths, betas, data_scale): the run's own on reopening
        self.run_id = 0
        self.saved_to: Path | None = None
        self._start(params)

    # ------------------------------------------------------------------ building

    def config(self, params: LiveParams, steps: int | None = None) -> RunConfig:
        """The run config of ``params`` (``train.steps``: the budget a saved run resumes to)."""
        extra = [f"train.steps={steps}"] if steps else []
        return validate(apply_overrides(self.base, _overrides(params) + extra), "live page")

    def _build(self, cfg: RunConfig, data: TensorData) -> tuple[GAN, TrainContext]:
        method = build_method(cfg, data.spec, torch.device("cpu"))
        assert isinstance(method, GAN)  # the page's configs (and the runs it reopens) are method=gan
        ctx = TrainContext.for_data(data, cfg.train.batch_size, cfg.train.steps, cfg.train.seed)
        method.setup(ctx)
        return method, ctx

    def _start(self, params: LiveParams, cfg: RunConfig | None = None) -> None:
        """A new run at step 0, set up as the loop sets one up: seed, build, take the stream."""
        cfg = cfg or self.config(params)
        self.data = load_dataset(params.toy)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.train.seed)  # network initialisation and all training noise, as in the loop
            self.method, self.ctx = self._build(cfg, self.data)
            self.rng = torch.get_rng_state()
        self.params, self.cfg, self.step = params, cfg, 0
        self.window = LogWindow()
        self.rows: list[dict[str, float]] = []  # metrics.csv: step, then the window means
        self.losses: list[tuple[int, str]] = [(0, params.loss)]  # (first step, loss): the curve's segments
        self.run_id += 1
        self.saved_to = None

    def _carry_over(self, cfg: RunConfig) -> None:
        """Rebuild the method under ``cfg`` and give it the running state, as resuming a checkpoint does."""
        with torch.random.fork_rng(devices=[]):  # the throw-away initialisation must not draw the run's noise
            method, ctx = self._build(cfg, self.data)
        for name, module in method.modules.items():
            module.load_state_dict(self.method.modules[name].state_dict())
        lrs = {"G": cfg.optim.g_lr, "D": cfg.optim.d_lr}
        for name, opt in method.optimizers.items():
            opt.load_state_dict(self.method.optimizers[name].state_dict())
            for group in opt.param_groups:  # load_state_dict brought the old rate back: the new one applies
                group["lr"] = lrs[name]
        for name, stream in ctx.streams.items():
            stream.load_state_dict(self.ctx.streams[name].state_dict())
        method.load_state_dict(self.method.state_dict())
        self.method, self.ctx, self.cfg = method, ctx, cfg

    # ------------------------------------------------------------------ what the page does

    def update(self, changes: dict[str, Any]) -> bool:
        """Apply parameter changes from the next step on; returns whether they started a new run.

        A bad value raises :class:`UserError` (one line naming the key) and leaves the run as it was.
        """
        try:
            params = LiveParams.model_validate(self.params.model_dump() | changes)
        except ValidationError as e:
            raise UserError(explain(e, "live page")) from None
        if params.loss not in page_losses():
            raise UserError(f"live page: config key 'gan.loss': the page trains {', '.join(page_losses())}")
        base = self.base
        if params.toy != self.params.toy:  # another toy: the nets' unit range follows it
            self.base = apply_overrides(base, [f"model.data_scale={DATA_SCALE[params.toy]}"])
        try:
            cfg = self.config(params)  # validates: raises before anything changes
        except UserError:
            self.base = base
            raise
        if params == self.params:
            return False
        if params.structure() != self.params.structure():
            self._start(params, cfg)
            return True
        self._flush()  # the curve's window must not mix two losses or two learning rates
        self._carry_over(cfg)
        if params.loss != self.params.loss:
            self.losses.append((self.step, params.loss))
        self.params = params
        return False

    def reset(self) -> None:
        """Start the run again from step 0 with the current parameters."""
        self._start(self.params)

    @contextlib.contextmanager
    def _own_rng(self) -> Iterator[None]:
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self.rng)
            try:
                yield
            finally:
                self.rng = torch.get_rng_state()

    def train(self, steps: int = 1) -> None:
        """``steps`` iterations of the method, logged as the loop logs them (a row every ``train.log_every``)."""
        with self._own_rng():
            for _ in range(steps):
                self.window.add(self.method.step())
                self.step += 1
                if self.step % self.cfg.train.log_every == 0:
                    self._flush()

    def _flush(self) -> None:
        if self.window.count:
            self.rows.append({"step": self.step, **self.window.means()})
            self.window = LogWindow()

    def curve(self, start: int = 0) -> list[list[float]]:
        """Points ``[step, d_loss, g_loss]`` of the loss curves from row ``start`` on."""
        return [[r["step"], r["d_loss"], r["g_loss"]] for r in self.rows[start:]]

    # ------------------------------------------------------------------ run directories

    def save(self, run_dir: str | Path) -> Path:
        """Write the run as a gankit run directory: config.yaml, metrics.csv, a checkpoint, a sample plot.

        ``gankit train --resume DIR --steps N`` continues it exactly as this session would (its
        ``train.steps`` is the step reached). A folder holding another run is refused.
        """
        run = RunDir(run_dir)
        if self.saved_to != run.path.resolve() and run.checkpoints.is_dir() and any(run.checkpoints.iterdir()):
            raise UserError(f"{run_dir}: already holds a run; choose another folder")
        cfg = self.config(self.params, steps=max(self.step, 1))
        run.create(cfg)
        rng = torch.get_rng_state()
        torch.set_rng_state(self.rng)  # the checkpoint stores the global RNG: the run's own goes in
        try:
            save_training_state(run, cfg, self.step, cast(Method, self.method), self.ctx, self.window, Dist())
        finally:
            torch.set_rng_state(rng)
        metrics = run.metrics
        if metrics.path.exists():
            metrics.path.unlink()
        for row in self.rows:
            metrics.log(int(row["step"]), {k: v for k, v in row.items() if k != "step"})
        (run.path / "live.json").write_text(json.dumps({"losses": self.losses}) + "\n")
        save_preview(self.method.preview(), run.samples / f"step_{self.step:08d}.png")
        self.saved_to = run.path.resolve()
        return run.path

    @classmethod
    def load(cls, run_dir: str | Path) -> LiveSession:
        """Reopen a run directory (one :meth:`save` wrote, or any GAN run on a page toy with the MLP nets)."""
        cfg = run_config(run_dir)
        params = params_of(cfg)
        find_checkpoint(run_dir)  # a one-line error before anything is built
        session = cls(params, base=cfg.model_dump(mode="json"))
        run = RunDir(run_dir)
        with torch.random.fork_rng(devices=[]):  # restoring sets the global RNG: the session keeps it as its own
            session.step, session.window = restore_training_state(run, cast(Method, session.method), session.ctx)
            session.rng = torch.get_rng_state()
        session.rows = [{k: float(v) for k, v in r.items() if v != ""} for r in run.metrics.read()]
        session.rows = [r for r in session.rows if r["step"] <= session.step and "d_loss" in r]
        extra = run.path / "live.json"
        if extra.is_file():
            session.losses = [(int(s), str(n)) for s, n in json.loads(extra.read_text()).get("losses", [])]
        session.saved_to = run.path.resolve()
        return session
