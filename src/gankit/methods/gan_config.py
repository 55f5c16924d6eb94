"""The GAN's config sections (``model``, ``gan``, ``optim``; the VAE shares ``model`` and ``optim``) and the
checks across them. Registered with :func:`gankit.config.register_method_config` by :mod:`gankit.methods.gan`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from gankit.config import RunConfig, Section


class ModelConfig(Section):
    """``model:`` the architecture of G and D (``ARCHS``) and its sizes."""

    # began: auto-encoder D (gan.loss=began); wavegan-nn: WaveGAN with nearest-neighbour upsampling in G
    arch: Literal["dcgan", "mlp", "resnet", "began", "wavegan", "wavegan-nn"] = "dcgan"
    z_dim: int = Field(100, gt=0)
    g_width: int = Field(64, gt=0)  # conv: channels of the last G block; mlp: hidden units
    d_width: int = Field(64, gt=0)  # conv: channels of the first D block; mlp: hidden units
    depth: int | None = Field(None, gt=0)  # conv: up/down-sampling stages; mlp: hidden layers
    spectral_norm: bool = False  # spectral normalisation of every D layer (Miyato et al. 2018)
    minibatch_kernels: int = Field(0, ge=0)  # minibatch discrimination kernels B in D (Salimans et al. 2016); 0: off
    minibatch_kernel_dim: int = Field(5, gt=0)  # the dimension C each minibatch kernel compares in
    data_scale: float = Field(1.0, gt=0)  # mlp: D sees x / data_scale, G emits data_scale * output (unit-range nets)


class GANConfig(Section):
    """``gan:`` the loss (``LOSSES``), the penalty and the tricks of a GAN run."""

    loss: str = "non-saturating"  # a name in gankit.losses.LOSSES
    d_steps: int = Field(1, gt=0)  # k discriminator steps per generator step
    pack: int = Field(1, gt=0)  # PacGAN: D sees this many samples at once (Lin et al. 2018); 1: off
    unrolled_steps: int = Field(0, ge=0)  # unrolled GAN: G sees D this many steps ahead (Metz et al. 2017); 0: off
    # Regularisers and tricks (docs/losses.md, gankit.methods.tricks); the defaults switch them all off.
    penalty: str = "none"  # gradient penalty on D: none or a name in gankit.losses.penalties.PENALTIES
    penalty_weight: float = Field(10.0, ge=0)  # lambda (WGAN-GP, DRAGAN) or gamma (R1)
    clip_weights: float | None = Field(None, gt=0)  # WGAN weight clipping to [-c, c] after each D step
    label_smoothing: float = Field(0.0, ge=0, lt=0.5)  # one-sided: real target 1 - s
    instance_noise: float = Field(0.0, ge=0)  # std of Gaussian noise on D's inputs at step 0
    instance_noise_steps: int | None = Field(
        None, gt=0
    )  # anneal it linearly to 0 over this many steps (None: train.steps)
    feature_matching: float = Field(0.0, ge=0)  # weight of Salimans et al.'s feature-matching term in G's loss
    historical_averaging: float = Field(0.0, ge=0)  # weight of ||theta - mean of past theta||^2, both players
    ema_decay: float = Field(0.0, ge=0, lt=1)  # > 0: keep an EMA copy of G, used for sampling
    consistency: float = Field(0.0, ge=0)  # weight of consistency regularisation on D (Zhang et al. 2020); 0: off
    diffaugment: str = ""  # DiffAugment policy: comma-separated of translation, cutout, color
    virtual_batchnorm: bool = False  # D's batch norms use a fixed reference batch + the example (Salimans et al. 2016)
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


class OptimConfig(Section):
    """``optim:`` the Adam optimizers of G and D and their learning-rate schedule."""

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


def check_gan(cfg: RunConfig) -> None:
    """Checks across sections: the loss exists and fits the architecture and the tricks; pack divides the batch."""
    from gankit.losses import LOSSES
    from gankit.losses.penalties import PENALTIES

    g, model = cfg.gan, cfg.model
    if g.loss not in LOSSES:
        raise ValueError(f"config key 'gan.loss': unknown loss '{g.loss}' (known: {', '.join(sorted(LOSSES))})")
    if g.penalty != "none" and g.penalty not in PENALTIES:
        raise ValueError(
            f"config key 'gan.penalty': unknown penalty '{g.penalty}' (known: none, {', '.join(sorted(PENALTIES))})"
        )
    loss = LOSSES[g.loss]
    if loss.autoencoder != (model.arch == "began"):
        raise ValueError(
            f"gan.loss={g.loss} with model.arch={model.arch}: the began loss and the began arch "
            "(an auto-encoder D) go together"
        )
    if g.label_smoothing and not loss.smoothable:
        raise ValueError(
            f"gan.label_smoothing: the {g.loss} loss has no real label to smooth "
            "(use minimax, non-saturating, lsgan or relativistic-average)"
        )
    if loss.autoencoder and (g.penalty != "none" or g.feature_matching or model.spectral_norm):
        raise ValueError(
            "gan.loss=began: penalties, feature matching and spectral norm are not supported with "
            "BEGAN's auto-encoder D"
        )
    if cfg.train.batch_size % g.pack:
        raise ValueError(f"gan.pack={g.pack} must divide train.batch_size={cfg.train.batch_size}")
