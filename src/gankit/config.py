"""Typed run configuration: one model per concept, composed into :class:`RunConfig`.

Configs are YAML files validated by pydantic (unknown keys, wrong types and impossible values
are errors). ``KEY=VALUE`` overrides address any key by its dotted name, e.g. ``optim.g_lr=1e-4``.
The shipped presets live in ``gankit/configs/*.yaml`` and are addressed by their stem.
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gankit.errors import UserError

DEFAULT_CONFIG = "dcgan-fashion-mnist"


class _Section(BaseModel):
    # Unknown keys are errors: a typo must never be silently ignored.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Section):
    name: str = "fashion-mnist"  # fashion-mnist | mnist-5k | folder:PATH | a toy distribution
    split: Literal["train", "test"] = "train"
    root: str | None = None  # a folder holding the dataset's files, tried before the defaults
    img_size: int | None = None  # None: the dataset's native size
    channels: Literal[1, 3] | None = None  # None: the dataset's own

    @field_validator("img_size")
    @classmethod
    def _valid_size(cls, v: int | None) -> int | None:
        if v is not None and v != 28 and not (32 <= v <= 256 and v & (v - 1) == 0):
            raise ValueError(f"image size {v} is not supported: use 28 or a power of two from 32 to 256")
        return v


class ModelConfig(_Section):
    arch: Literal["dcgan", "mlp", "resnet", "began"] = "dcgan"  # began: auto-encoder D (gan.loss=began)
    z_dim: int = Field(100, gt=0)
    g_width: int = Field(64, gt=0)  # conv: channels of the last G block; mlp: hidden units
    d_width: int = Field(64, gt=0)  # conv: channels of the first D block; mlp: hidden units
    depth: int | None = Field(None, gt=0)  # conv: up/down-sampling stages; mlp: hidden layers
    spectral_norm: bool = False  # spectral normalisation of every D layer (Miyato et al. 2018)
    minibatch_kernels: int = Field(0, ge=0)  # minibatch discrimination kernels B in D (Salimans et al. 2016); 0: off
    minibatch_kernel_dim: int = Field(5, gt=0)  # the dimension C each minibatch kernel compares in
    data_scale: float = Field(1.0, gt=0)  # mlp: D sees x / data_scale, G emits data_scale * output (unit-range nets)


class GANConfig(_Section):
    loss: str = "non-saturating"  # a name in gankit.losses.LOSSES
    d_steps: int = Field(1, gt=0)  # k discriminator steps per generator step
    pack: int = Field(1, gt=0)  # PacGAN: D sees this many samples at once (Lin et al. 2018); 1: off
    unrolled_steps: int = Field(0, ge=0)  # unrolled GAN: G sees D this many steps ahead (Metz et al. 2017); 0: off
    # Regularisers and tricks (docs/losses.md, gankit.methods.tricks); the defaults switch them all off.
    penalty: Literal["none", "wgan-gp", "dragan", "r1"] = "none"  # gradient penalty on D
    penalty_weight: float = Field(10.0, ge=0)  # lambda (WGAN-GP, DRAGAN) or gamma (R1)
    clip_weights: float | None = Field(None, gt=0)  # WGAN weight clipping to [-c, c] after each D step
    label_smoothing: float = Field(0.0, ge=0, lt=0.5)  # one-sided: real target 1 - s
    instance_noise: float = Field(0.0, ge=0)  # std of Gaussian noise on D's inputs at step 0
    instance_noise_steps: int | None = Field(None, gt=0)  # anneal it linearly to 0 over this many steps (None: train.steps)
    feature_matching: float = Field(0.0, ge=0)  # weight of Salimans et al.'s feature-matching term in G's loss
    historical_averaging: float = Field(0.0, ge=0)  # weight of ||theta - mean of past theta||^2, both players
    ema_decay: float = Field(0.0, ge=0, lt=1)  # > 0: keep an EMA copy of G, used for sampling
    diffaugment: str = ""  # DiffAugment policy: comma-separated of translation, cutout, color
    began_gamma: float = Field(0.5, gt=0, le=1)  # BEGAN's diversity ratio
    began_lambda_k: float = Field(1e-3, ge=0)  # BEGAN's gain of the k_t control

    @field_validator("diffaugment")
    @classmethod
    def _valid_policy(cls, v: str) -> str:
        from gankit.nets.augment import AUGMENTS  # late import: nets must not depend on config

        unknown = [p for p in v.split(",") if p.strip() and p.strip() not in AUGMENTS]
        if unknown:
            raise ValueError(f"unknown augmentation '{unknown[0]}' (known: {', '.join(AUGMENTS)})")
        return ",".join(p.strip() for p in v.split(",") if p.strip())


class VAEConfig(_Section):
    """The VAE baseline (method: vae); its latent size is model.z_dim and it trains with optim.g_lr."""

    arch: Literal["conv", "mlp"] = "conv"  # encoder/decoder family
    width: int = Field(32, gt=0)  # conv: channels at full resolution; mlp: hidden units
    recon: Literal["bernoulli", "gaussian"] = "bernoulli"  # -log p(x|z): cross-entropy or squared error
    sigma: float = Field(0.1, gt=0)  # the decoder's std for recon=gaussian
    beta: float = Field(1.0, ge=0)  # weight of the KL term (1: the ELBO)


class OptimConfig(_Section):
    g_lr: float = Field(2e-4, gt=0)
    d_lr: float = Field(2e-4, gt=0)
    betas: tuple[float, float] = (0.5, 0.999)
    # Learning-rate schedule of both players (gankit.methods.schedule); constant keeps the base rates.
    lr_schedule: Literal["constant", "linear", "cosine"] = "constant"
    lr_decay_start: float = Field(0.0, ge=0, lt=1)  # fraction of train.steps before the decay begins
    lr_final_factor: float = Field(0.0, ge=0, le=1)  # the rate at the last step, as a fraction of the base rate

    @field_validator("betas")
    @classmethod
    def _valid_betas(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not all(0.0 <= b < 1.0 for b in v):
            raise ValueError(f"betas must lie in [0, 1), got {list(v)}")
        return v


class TrainConfig(_Section):
    steps: int = Field(3500, gt=0)  # generator steps in the whole run
    minutes: float | None = Field(None, gt=0)  # wall-clock budget; stops early (checkpointed) when spent
    batch_size: int = Field(64, gt=0)  # the global batch: under torchrun each process takes batch_size / world_size
    seed: int = 0
    log_every: int = Field(50, gt=0)
    sample_every: int = Field(500, gt=0)
    checkpoint_every: int = Field(1000, gt=0)
    keep_checkpoints: int = Field(2, gt=0)
    device: str = "auto"  # auto | cpu | cuda | cuda:N; under torchrun each process takes cuda:LOCAL_RANK
    # Speed switches (gankit.train.speed): "auto" picks the best default for the device.
    amp: Literal["auto", "off", "bf16", "fp16"] = "auto"
    channels_last: Literal["auto"] | bool = "auto"
    compile: bool = False
    data_on_device: Literal["auto"] | bool = "auto"
    sync_batchnorm: bool = False  # under torchrun: batch statistics over all processes (each pass separately)

    @field_validator("amp", mode="before")
    @classmethod
    def _yaml_off(cls, v):
        return "off" if v is False else v  # YAML 1.1 reads a bare `off` as false
    num_samples: int = Field(64, gt=0)  # images in each sample grid


class EvalConfig(_Section):
    """Evaluation during training (gankit.train.evaluation); off unless eval_every is set."""

    eval_every: int | None = Field(None, gt=0)  # steps between evaluations; None: never
    metrics: list[Literal["fid", "kid", "is", "pr", "dc", "classes"]] = ["fid"]
    extractor: str | None = None  # None: the dataset's classifier (fashion-mnist, mnist-5k), else inception
    num_samples: int = Field(2000, ge=10)  # generated samples (and real test images) per evaluation
    best_metric: Literal["fid", "kid", "is", "precision", "recall", "density", "coverage", "classes_hit"] = "fid"


class RunConfig(_Section):
    method: Literal["gan", "vae"] = "gan"
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    gan: GANConfig = GANConfig()
    vae: VAEConfig = VAEConfig()
    optim: OptimConfig = OptimConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()

    @model_validator(mode="after")
    def _loss_exists(self) -> RunConfig:
        from gankit.losses import LOSSES  # late import: losses must not depend on config

        if self.gan.loss not in LOSSES:
            raise ValueError(f"gan.loss: unknown loss '{self.gan.loss}' (known: {', '.join(sorted(LOSSES))})")
        loss = LOSSES[self.gan.loss]
        if self.method == "gan" and loss.autoencoder != (self.model.arch == "began"):
            raise ValueError(f"gan.loss={self.gan.loss} with model.arch={self.model.arch}: the began loss and the began arch (an auto-encoder D) go together")
        if self.gan.label_smoothing and not loss.smoothable:
            raise ValueError(f"gan.label_smoothing: the {self.gan.loss} loss has no real label to smooth (use minimax, non-saturating, lsgan or relativistic-average)")
        if loss.autoencoder and (self.gan.penalty != "none" or self.gan.feature_matching or self.model.spectral_norm):
            raise ValueError("gan.loss=began: penalties, feature matching and spectral norm are not supported with BEGAN's auto-encoder D")
        return self

    @model_validator(mode="after")
    def _pack_divides_batch(self) -> RunConfig:
        if self.train.batch_size % self.gan.pack:
            raise ValueError(f"gan.pack={self.gan.pack} must divide train.batch_size={self.train.batch_size}")
        return self


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
            raise UserError(f"config '{source}' is neither a file nor a shipped preset ({', '.join(shipped_configs())})")
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


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set dotted ``KEY=VALUE`` pairs in a nested mapping; VALUE is parsed as YAML."""
    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UserError(f"override '{item}' is not of the form KEY=VALUE")
        try:
            value = yaml.safe_load(raw) if raw != "" else None
        except yaml.YAMLError:
            value = raw
        node = data
        *parents, leaf = key.split(".")
        for p in parents:
            child = node.setdefault(p, {})
            if not isinstance(child, dict):
                raise UserError(f"override '{item}': '{p}' is not a section")
            node = child
        node[leaf] = value
    return data


def _explain(e: ValidationError, where: str) -> str:
    err = e.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown config key '{key}'"
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    shown = "" if isinstance(got, dict) or msg.startswith(key) else f" (got {got!r})"
    return f"{where}: config key '{key}': {msg}{shown}" if key else f"{where}: {msg}"


def validate(data: dict[str, Any], where: str = "config") -> RunConfig:
    """Validate a mapping into a :class:`RunConfig`; any problem is a one-line :class:`UserError`."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as e:
        raise UserError(_explain(e, where)) from None


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
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
