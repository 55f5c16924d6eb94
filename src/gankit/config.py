"""Typed run configuration: one model per concept, composed into :class:`RunConfig`.

Every run has ``method``, ``data``, ``train`` and ``eval``; each method registers its own sections
(:func:`register_method_config`: the GAN's ``model``, ``gan`` and ``optim``, the VAE's ``vae``, DANN's
``dann``), so ``method: NAME`` selects the sections a config may hold. Configs are YAML files validated
by pydantic (unknown keys, wrong types and impossible values are errors, reported on one line by
:func:`explain`). ``KEY=VALUE`` overrides (:func:`parse_override`, the one parser every command uses)
address any key by its dotted name, e.g. ``optim.g_lr=1e-4``. The shipped presets live in
``gankit/configs/*.yaml`` and are addressed by their stem.
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from gankit.errors import UserError

DEFAULT_CONFIG = "dcgan-fashion-mnist"


class Section(BaseModel):
    """A typed config section: unknown keys are errors, assignments are validated."""

    # Unknown keys are errors: a typo must never be silently ignored.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(Section):
    """``data:`` the dataset (or domain pair) a run trains on, and how it is read."""

    name: str = "fashion-mnist"  # fashion-mnist | mnist-5k | folder:PATH | a toy distribution | a source domain
    target: str | None = None  # a second domain (gankit.data.domains): name is then the labelled source domain
    seed: int = 0  # the seed of data-side randomness: a domain pair's split, MNIST-M's patches, moons' samples
    split: Literal["train", "test"] = "train"
    root: str | None = None  # a folder holding the dataset's files, tried before the defaults
    photos: str | None = None  # mnist-m: BSDS500-style photographs (train/, test/) to cut its patches from
    img_size: int | None = None  # None: the dataset's native size
    channels: Literal[1, 3] | None = None  # None: the dataset's own
    sample_rate: int | None = Field(None, gt=0)  # audio: clips of 1.024 s at this rate (None: 16 kHz; 8000: FSDD's own)
    # binary images in {-1, 1} (gankit.data.binarize): grey > 1/2, or Bernoulli(grey) drawn once (seeded by seed)
    binarize: Literal["threshold", "stochastic"] | None = None

    @field_validator("img_size")
    @classmethod
    def _valid_size(cls, v: int | None) -> int | None:
        if v is not None and v != 28 and not (32 <= v <= 256 and v & (v - 1) == 0):
            raise ValueError(f"image size {v} is not supported: use 28 or a power of two from 32 to 256")
        return v


class TrainConfig(Section):
    """``train:`` the loop's budget, batch, seed, cadence of logs, samples and checkpoints, device and loggers."""

    steps: int = Field(3500, gt=0)  # generator steps in the whole run
    minutes: float | None = Field(None, gt=0)  # wall-clock budget; stops early (checkpointed) when spent
    batch_size: int = Field(64, gt=0)  # the global batch: under torchrun each process takes batch_size / world_size
    seed: int = 0
    log_every: int = Field(50, gt=0)
    sample_every: int = Field(500, gt=0)
    checkpoint_every: int = Field(1000, gt=0)
    keep_checkpoints: int = Field(2, gt=0)
    # Experiment trackers (gankit.train.loggers): tensorboard, csv, mlflow. metrics.csv is written in any case.
    loggers: list[str] = ["tensorboard", "csv"]
    device: str = "auto"  # auto | cpu | cuda | cuda:N; under torchrun each process takes cuda:LOCAL_RANK
    # Speed switches (gankit.train.speed): "auto" picks the best default for the device.
    amp: Literal["auto", "off", "bf16", "fp16"] = "auto"
    channels_last: Literal["auto"] | bool = "auto"
    compile: bool = False
    data_on_device: Literal["auto"] | bool = "auto"
    sync_batchnorm: bool = False  # under torchrun: batch statistics over all processes (each pass separately)

    @field_validator("loggers")
    @classmethod
    def _known_loggers(cls, v: list[str]) -> list[str]:
        from gankit.train.loggers import LOGGERS  # late import: config must not depend on train

        return _known_names(v, LOGGERS, "logger")

    @field_validator("amp", mode="before")
    @classmethod
    def _yaml_off(cls, v):
        return "off" if v is False else v  # YAML 1.1 reads a bare `off` as false

    num_samples: int = Field(64, gt=0)  # images in each sample grid


def _known_names(names: list[str], registry, what: str) -> list[str]:
    """``names`` when every one is in ``registry``, else a ValueError naming the first unknown and the known."""
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise ValueError(f"unknown {what} '{unknown[0]}' (known: {', '.join(registry)})")
    return names


class EvalConfig(Section):
    """Evaluation during training: every eval_every steps the loop logs the method's scores as eval_<key> and
    keeps the best checkpoint by best_metric in <run>/best/. Off unless eval_every is set."""

    eval_every: int | None = Field(None, gt=0)  # steps between evaluations; None: never
    metrics: list[str] = ["fid"]  # generators: names in gankit.metrics.scoring.SCORES
    extractor: str | None = None  # None: the dataset's classifier (fashion-mnist, mnist-5k), else inception
    num_samples: int = Field(2000, ge=10)  # generated samples (and real test images) per evaluation
    best_metric: str = "fid"  # a key the method's scores produce (fid, kid, precision, target_acc, ...)

    @field_validator("metrics")
    @classmethod
    def _known_scores(cls, v: list[str]) -> list[str]:
        from gankit.metrics.scoring import SCORES  # late import: metrics must not depend on config

        return _known_names(v, SCORES, "score")


class RunConfig(Section):
    """The sections every run has; each method adds its own (:func:`register_method_config`).

    :func:`validate` builds the subclass of the method that ``method`` names, so a key of another
    method's section (or a misspelt one) is an unknown key, and each section is checked by the class
    its method registered.
    """

    method: str = "gan"
    data: DataConfig = DataConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()

    if TYPE_CHECKING:  # a method's own sections are fields of the subclass its method registered

        def __getattr__(self, name: str) -> Any: ...


@dataclass(frozen=True)
class MethodConfig:
    """A method's config: the run-config class its sections make, and an optional check across sections."""

    run_class: type[RunConfig]
    check: Callable[[RunConfig], None] | None = None  # raises ValueError with a one-line message


METHOD_CONFIGS: dict[str, MethodConfig] = {}


def register_method_config(
    name: str, sections: dict[str, type[Section]], check: Callable[[RunConfig], None] | None = None
) -> type[RunConfig]:
    """Make ``method: name`` a valid run config with ``sections`` (key -> section class) beside the common ones."""
    fields: dict[str, Any] = {"method": (Literal[name], name)}
    fields |= {key: (cls, Field(default_factory=cls)) for key, cls in sections.items()}
    run_class = create_model(f"RunConfig_{name.replace('-', '_')}", __base__=RunConfig, **fields)
    METHOD_CONFIGS[name] = MethodConfig(run_class, check)
    return run_class


# --------------------------------------------------------------------------- loading


def shipped_configs() -> list[str]:
    """Names of the presets shipped inside the package."""
    folder = resources.files("gankit") / "configs"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _read_yaml(source: str | Path) -> tuple[dict[str, Any], str]:
    """Read a YAML file, or a shipped preset by name. Returns (mapping, where it came from)."""
    path = Path(source)
    if path.suffix not in (".yaml", ".yml") and not path.exists():
        preset = resources.files("gankit") / "configs" / f"{source}.yaml"
        if not preset.is_file():
            raise UserError(
                f"config '{source}' is neither a file nor a shipped preset ({', '.join(shipped_configs())})"
            )
        text, where = preset.read_text(), f"preset {source}"
    else:
        if not path.is_file():
            raise UserError(f"{path}: config file not found")
        text, where = path.read_text(), str(path)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise UserError(f"{where}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise UserError(f"{where}: a config must be a mapping of sections, got {type(data).__name__}")
    return data, where


def parse_override(item: str) -> tuple[str, Any]:
    """``KEY=VALUE`` -> (KEY, VALUE parsed as YAML: ``lr=0.05`` gives a float, ``methods=[a,b]`` a list)."""
    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise UserError(f"override '{item}' is not of the form KEY=VALUE")
    try:
        return key, (yaml.safe_load(raw) if raw != "" else None)
    except yaml.YAMLError:
        return key, raw


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set dotted ``KEY=VALUE`` pairs in a nested mapping; VALUE is parsed as YAML."""
    data = copy.deepcopy(data)
    for item in overrides:
        key, value = parse_override(item)
        node = data
        *parents, leaf = key.split(".")
        for p in parents:
            child = node.setdefault(p, {})
            if not isinstance(child, dict):
                raise UserError(f"override '{item}': '{p}' is not a section")
            node = child
        node[leaf] = value
    return data


def explain(e: ValidationError, where: str, prefix: str = "") -> str:
    """The first problem of a pydantic error as one line naming the key (``prefix`` + its dotted path)."""
    err = e.errors()[0]
    key = prefix + ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown config key '{key}'"
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    shown = "" if isinstance(got, dict) or msg.startswith(key) else f" (got {got!r})"
    return f"{where}: config key '{key}': {msg}{shown}" if key else f"{where}: {msg}"


_Model = TypeVar("_Model", bound=BaseModel)


def validate_section(cls: type[_Model], data: dict[str, Any], where: str, prefix: str = "") -> _Model:
    """Validate ``data`` into ``cls``; any problem is a one-line :class:`UserError` naming the key."""
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise UserError(explain(e, where, prefix)) from None


def validate(data: dict[str, Any], where: str = "config") -> RunConfig:
    """Validate a mapping into the run config of its ``method``; any problem is a one-line :class:`UserError`."""
    method = data.get("method", RunConfig.model_fields["method"].default)
    if method not in METHOD_CONFIGS:
        known = ", ".join(sorted(METHOD_CONFIGS))
        raise UserError(f"{where}: config key 'method': unknown method {method!r} (known: {known})")
    entry = METHOD_CONFIGS[method]
    cfg = validate_section(entry.run_class, data, where)
    if entry.check is not None:
        try:
            entry.check(cfg)
        except ValueError as e:
            raise UserError(f"{where}: {e}") from None
    return cfg


def load_config(source: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Load a config file or shipped preset (default: ``dcgan-fashion-mnist``) and apply overrides.

    Example:
        >>> cfg = load_config("dcgan-fashion-mnist", ["train.steps=10"])
        >>> cfg.train.steps
        10
    """
    data, where = _read_yaml(source or DEFAULT_CONFIG)
    return validate(apply_overrides(data, overrides or []), where)


def to_yaml(cfg: RunConfig) -> str:
    """The resolved config as YAML (what a run directory's ``config.yaml`` holds)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
