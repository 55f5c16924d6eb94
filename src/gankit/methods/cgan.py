"""The class-conditional GAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets"): G and D
both see the class y, and the minimax game of Goodfellow et al. 2014 is played per class:

    for each training iteration:
        for k steps:                                           # cfg.gan.d_steps
            sample m examples (x, y), m noise samples z and m labels y' ~ U{0, ..., K-1}
            update D by descending J_D(D(x, y), D(G(z, y'), y'))      [+ AC-GAN: -L_C on both batches]
        sample m noise samples z and m labels y' ~ U{0, ..., K-1}
        update G by descending J_G(D(G(z, y'), y'))                   [+ AC-GAN: -L_C on the fakes]; D frozen

G(z, y) is any registered G' with y fed in by ``cgan.g_conditioning``: ``concat`` (G'(concat(z, embed(y))))
or ``batchnorm`` (conditional batch norm in every block; :mod:`gankit.nets.conditional`). How D uses y is
``cgan.d_conditioning``: ``concat`` (one-hot label maps as extra input channels; Mirza & Osindero 2014),
``projection`` (logit + <embed(y), phi(x)>; Miyato & Koyama 2018) or ``acgan`` (an unconditional D with an
auxiliary classifier, Odena et al. 2017; its class terms weighted by ``cgan.aux_weight``,
:mod:`gankit.losses.conditional`). The adversarial loss J is any ``gan.loss``.

As in :mod:`gankit.methods.gan`, real and fake minibatches pass through D separately (batch norm never mixes
their statistics), and D is frozen in G's step. Of the GAN's tricks, those that change D's input, its loss's
labels or its weights after a step, keep an EMA of G, or regularise D at labelled points carry over
(``gan.label_smoothing``, ``instance_noise``, ``diffaugment``, ``clip_weights``, ``ema_decay``, ``penalty``,
``consistency``, ``historical_averaging``: the regularisers see ``LabelledD``); the others call D(x) on
images without a label or rebuild D unconditionally, and :func:`check_cgan` refuses them.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import torch
from pydantic import Field
from torch import nn

from gankit.config import RunConfig, Section
from gankit.data import DataSpec
from gankit.errors import UserError
from gankit.losses import LOSSES, GANLoss
from gankit.losses.conditional import d_class_loss, g_class_loss
from gankit.methods.gan import compile_module, load_players_state, players_state, update
from gankit.methods.gan_config import GANConfig, ModelConfig, OptimConfig, check_gan
from gankit.methods.registry import register_method
from gankit.methods.schedule import build_schedulers
from gankit.methods.tricks import NO_TRICKS, Tricks
from gankit.metrics.conditional import conditional_scores
from gankit.metrics.scoring import LATENT_SEED, GeneratorScorer
from gankit.nets import unwrap
from gankit.nets.conditional import conditional_discriminator, conditional_generator
from gankit.nets.modes import eval_mode
from gankit.previews import Preview, samples_preview

PREVIEW_PER_CLASS = 10  # samples in each row of the preview grid


class CGANConfig(Section):
    """The class-conditional GAN (method: cgan); G and D are model.*, the adversarial loss gan.loss."""

    g_conditioning: Literal["concat", "batchnorm"] = "concat"  # how G sees the class
    d_conditioning: Literal["concat", "projection", "acgan"] = "projection"  # how D sees the class
    embed_dim: int = Field(16, gt=0)  # g_conditioning=concat: size of G's label embedding, concatenated with z
    aux_weight: float = Field(1.0, ge=0)  # acgan: weight of the class terms in both players' losses


# The GAN's switches cgan refuses, each with why: they call D(x) on images without a label of their own, or
# build D unconditionally.
_REFUSED = {
    "gan.feature_matching": (lambda g: g.feature_matching > 0, "it reads D's features without the label"),
    "gan.virtual_batchnorm": (lambda g: g.virtual_batchnorm, "its reference batch calls D(x) without the label"),
    "gan.pack": (lambda g: g.pack > 1, "PacGAN's packed D takes no label"),
    "gan.unrolled_steps": (lambda g: g.unrolled_steps > 0, "the unrolled step calls D(x) without the label"),
}
_SUPPORTED = (
    "gan.loss, d_steps, penalty, consistency, historical_averaging, label_smoothing, instance_noise, diffaugment, "
    "clip_weights, ema_decay"
)


def check_cgan(cfg: RunConfig) -> None:
    """The GAN's checks, then the switches cgan does not support, each a one-line error naming its key."""
    model, g, c = cfg.model, cfg.gan, cfg.cgan
    if model.arch == "began" or g.loss == "began":
        key = "model.arch" if model.arch == "began" else "gan.loss"
        raise ValueError(f"{key}=began: BEGAN's auto-encoder D has no class-conditional form in method cgan")
    check_gan(cfg)
    if model.minibatch_kernels:
        raise ValueError("model.minibatch_kernels: minibatch discrimination is not supported by method cgan")
    for key, (is_on, why) in _REFUSED.items():
        if is_on(g):
            raise ValueError(f"{key}: not supported by method cgan ({why}); it supports {_SUPPORTED}")
    if c.g_conditioning == "batchnorm" and model.arch == "mlp":
        raise ValueError("cgan.g_conditioning=batchnorm: the mlp generator has no batch norm (use concat)")
    if c.aux_weight != 1.0 and c.d_conditioning != "acgan":
        raise ValueError(f"cgan.aux_weight: only d_conditioning=acgan has class terms (got {c.d_conditioning})")


class LabelledD(nn.Module):
    """x -> D(x, y)[0] for one batch of labels y: a conditional D seen as an unconditional one, so that the GAN's
    regularisers of D (gradient penalties, consistency, historical averaging) apply unchanged. It holds no
    parameters of its own: ``named_parameters()`` and ``parameters()`` are D's, under D's names."""

    def __init__(self, D: nn.Module, y: torch.Tensor):
        super().__init__()
        self.D, self.y = D, y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.D(x, self.y)[0]

    def named_parameters(self, *args, **kwargs):
        """D's own parameters under D's own names (historical averaging keys its running means by them)."""
        return unwrap(self.D).named_parameters(*args, **kwargs)


def d_step(
    G: nn.Module,
    D: nn.Module,
    opt_D: torch.optim.Optimizer,
    loss: GANLoss,
    x_real: torch.Tensor,
    y_real: torch.Tensor,
    z: torch.Tensor,
    y_fake: torch.Tensor,
    aux_weight: float = 1.0,
    tricks: Tricks = NO_TRICKS,
    scaler=None,
) -> dict[str, torch.Tensor]:
    """One discriminator update on a labelled real minibatch and a generated one of labels ``y_fake``.

    D is a conditional D of :mod:`gankit.nets.conditional`: ``D(x, y) -> (logits, class logits or None)``;
    with class logits (AC-GAN) the class terms -L_C, weighted by ``aux_weight``, join D's loss.
    """
    with torch.no_grad():
        x_fake = G(z, y_fake)
    x_real, x_fake = tricks.d_input(x_real), tricks.d_input(x_fake)  # DiffAugment, instance noise
    real_logits, real_class = D(x_real, y_real)
    fake_logits, fake_class = D(x_fake, y_fake)
    loss_D = loss.d(real_logits, fake_logits, **tricks.d_loss_kwargs())  # label smoothing
    # Gradient penalty, consistency, historical averaging. The points a penalty probes (reals, reals with noise,
    # or WGAN-GP's interpolates between x_real[i] and x_fake[i]) carry the real image's label y_real[i], as
    # conditional WGAN-GP codes label the interpolates with the real class.
    reg, reg_stats = tricks.d_regulariser(LabelledD(D, y_real), x_real, x_fake)
    total, class_stats = loss_D + reg, {}
    if real_class is not None:  # AC-GAN: D also learns the classes, of the reals and of the fakes
        class_loss = d_class_loss(real_class, y_real, fake_class, y_fake)
        total = total + aux_weight * class_loss
        class_stats = {
            "d_class": class_loss.detach(),
            "class_acc_real": (real_class.detach().argmax(1) == y_real).float().mean(),
            "class_acc_fake": (fake_class.detach().argmax(1) == y_fake).float().mean(),
        }
    update(opt_D, total, scaler)
    return {
        "d_loss": loss_D.detach(),
        "d_real": torch.sigmoid(real_logits.detach()).mean(),  # mean D(x, y)
        "d_fake": torch.sigmoid(fake_logits.detach()).mean(),  # mean D(G(z, y'), y')
        **reg_stats,
        **class_stats,
        **tricks.after_d_step(D, real_logits.detach(), fake_logits.detach()),  # clipping, W estimate
    }


def g_step(
    G: nn.Module,
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    loss: GANLoss,
    z: torch.Tensor,
    y_fake: torch.Tensor,
    x_real: torch.Tensor | None = None,
    y_real: torch.Tensor | None = None,
    aux_weight: float = 1.0,
    tricks: Tricks = NO_TRICKS,
    scaler=None,
) -> dict[str, torch.Tensor]:
    """One generator update through a frozen D: G(z, y_fake) should pass as real images of class y_fake
    (and, with AC-GAN, be classified as y_fake). ``x_real``, ``y_real``: for losses that compare with reals."""
    D.requires_grad_(False)  # no gradients into D's parameters: cheaper, and D must not move here
    x_fake = G(z, y_fake)
    fake_logits, fake_class = D(tricks.d_input(x_fake), y_fake)
    real_logits = D(tricks.d_input(x_real), y_real)[0] if loss.g_uses_real else None
    loss_G = loss.g(fake_logits, real_logits)
    reg, reg_stats = tricks.g_regulariser(G, LabelledD(D, y_fake), x_real, x_fake)  # historical averaging
    total, class_stats = loss_G + reg, {}
    if fake_class is not None:  # AC-GAN: G's part of -L_C
        class_loss = g_class_loss(fake_class, y_fake)
        total = total + aux_weight * class_loss
        class_stats = {"g_class": class_loss.detach()}
    update(opt_G, total, scaler)
    D.requires_grad_(True)
    tricks.after_g_step(G)  # EMA of G
    return {"g_loss": loss_G.detach(), **reg_stats, **class_stats}


class CGAN:
    """A conditional G and D with Adam, trained by :func:`d_step` (k times) and :func:`g_step` on labelled
    batches of one stream; a generator whose ``cond`` is a LongTensor of class indices."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        if not spec.num_classes:
            raise UserError(
                f"method cgan: data.name={cfg.data.name} has no class labels; a class-conditional GAN needs labelled "
                "data (fashion-mnist, mnist-5k, a folder of class sub-folders)"
            )
        c = cfg.cgan
        self.device, self.spec = device, spec
        self.classes, self.num_classes = spec.classes, spec.num_classes
        self.z_dim, self.aux_weight = cfg.model.z_dim, c.aux_weight
        G = conditional_generator(cfg.model, spec.shape, self.num_classes, c.embed_dim, c.g_conditioning)
        self.G = G.to(device)
        try:
            D = conditional_discriminator(cfg.model, spec.shape, self.num_classes, c.d_conditioning)
        except ValueError as e:  # a future arch without features
            raise UserError(f"cgan.d_conditioning={c.d_conditioning}: {e} (model.arch={cfg.model.arch})") from None
        self.D = D.to(device)
        betas = tuple(cfg.optim.betas)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.optim.g_lr, betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.optim.d_lr, betas=betas)
        self.loss = LOSSES[cfg.gan.loss]
        self.d_steps = cfg.gan.d_steps
        self.tricks = Tricks.from_config(cfg, self.loss, self.G, self.D, device)  # the subset check_cgan allows
        self.modules = {"G": self.G, "D": self.D, **self.tricks.modules}  # + G_ema when gan.ema_decay > 0
        self.optimizers = {"G": self.opt_G, "D": self.opt_D}
        self.schedulers = build_schedulers(cfg.optim, cfg.train.steps, self.optimizers)
        self.images_per_step = cfg.train.batch_size * self.d_steps
        # The preview: row k holds class k, the same ten latents in every row; drawn from their own generator,
        # so training's random stream is untouched, and the same for the whole run and after resuming.
        z = torch.randn(
            PREVIEW_PER_CLASS, self.z_dim, generator=torch.Generator().manual_seed(cfg.train.seed + 1_000_003)
        )
        self.z_preview = z.repeat(self.num_classes, 1)  # [K * 10, z_dim]
        self.y_preview = torch.arange(self.num_classes).repeat_interleave(PREVIEW_PER_CLASS)  # 0 x10, 1 x10, ...
        self.scorer = GeneratorScorer.from_config(cfg)
        self.scores_classes = cfg.eval.num_samples >= 2 * self.num_classes  # at least 2 samples of a class
        self.setup_modules()

    def setup(self, ctx) -> None:
        """Take one stream of labelled training batches, and train G and D through the context's wrapper."""
        self.batches = ctx.stream("train")
        self.setup_modules(ctx.rank, ctx.world_size, ctx.wrap, ctx.compile, ctx.fp16)

    def setup_modules(
        self, rank: int = 0, world_size: int = 1, wrap=lambda m: m, compile: bool = False, fp16: bool = False
    ) -> None:
        """As :meth:`gankit.methods.gan.GAN.setup_modules`: D trains through its wrapper in the D step, G in the
        G step; the other network is called unwrapped (frozen or under no_grad: nothing to synchronise)."""
        self.rank, self.world_size = rank, world_size
        self.G_eval, self.D_eval = (compile_module(self.G), compile_module(self.D)) if compile else (self.G, self.D)
        self.G_train, self.D_train = wrap(self.G_eval), wrap(self.D_eval)
        self.scalers = {k: torch.amp.GradScaler(self.device.type) if fp16 else None for k in ("G", "D")}

    def noise(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """This process's share of a global batch of latents and uniform labels: every rank draws the same
        global batch (their RNGs agree) and takes its slice, as :meth:`gankit.methods.gan.GAN.noise` does."""
        z = torch.randn(n * self.world_size, self.z_dim, device=self.device)
        y = torch.randint(self.num_classes, (n * self.world_size,), device=self.device)
        return z[self.rank :: self.world_size], y[self.rank :: self.world_size]

    def step(self) -> dict[str, torch.Tensor]:
        for _ in range(self.d_steps):
            batch = next(self.batches)
            x_real, y_real = batch["x"], batch["y"]
            z, y_fake = self.noise(len(x_real))
            stats = d_step(
                self.G_eval,
                self.D_train,
                self.opt_D,
                self.loss,
                x_real,
                y_real,
                z,
                y_fake,
                self.aux_weight,
                self.tricks,
                self.scalers["D"],
            )
        z, y_fake = self.noise(len(x_real))
        g_stats = g_step(
            self.G_train,
            self.D_eval,
            self.opt_G,
            self.loss,
            z,
            y_fake,
            x_real,
            y_real,
            self.aux_weight,
            self.tricks,
            self.scalers["G"],
        )
        for sched in self.schedulers.values():  # one tick per generator step
            sched.step()
        return {"d_loss": stats.pop("d_loss"), **g_stats, **stats}  # column order: d_loss, g_loss, d_real, ...

    def labels(self, n: int, cond: torch.Tensor | int | None = None) -> torch.Tensor:
        """The class indices for ``n`` samples: ``cond`` (n indices, or one for all), else 0, 1, ..., K-1, 0, ...
        (every class equally often, deterministically)."""
        if cond is None:
            return torch.arange(n, device=self.device) % self.num_classes
        y = torch.as_tensor(cond, device=self.device).long()
        return y.expand(n) if y.dim() == 0 else y

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """G(z, y), differentiable in z (inversion, inpainting): the sampling G in eval mode; ``cond``: class
        indices (see :meth:`labels`)."""
        G = self.tricks.G_ema if self.tricks.G_ema is not None else self.G  # the EMA of G when it is kept
        with eval_mode(G):  # batch norm uses running statistics: a sample does not depend on its batch
            return G(z.to(self.device), self.labels(len(z), cond))

    @torch.no_grad()
    def sample(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(z, cond)

    def preview(self) -> Preview:
        """One row per class, ten samples each (the same ten latents in every row)."""
        x = self.sample(self.z_preview, self.y_preview)
        if x.dim() == 4:
            return samples_preview(x, nrow=PREVIEW_PER_CLASS)
        return Preview("points", x.cpu(), labels=self.y_preview, title="one colour per class")

    def evaluate(self) -> dict[str, float]:
        """The unconditional scores of :class:`GeneratorScorer` on samples of every class in equal numbers,
        and the conditional ones (:mod:`gankit.metrics.conditional`): ``class_accuracy`` (the dataset's shipped
        classifier on the requested class) and ``intra_fid`` (mean over classes), on ``eval.num_samples``
        seeded latents. Data whose reference split has no labels, or too few images of a class, skip those."""
        scores = self.scorer(self.sample, self.z_dim)
        if not self.scores_classes:
            return scores
        try:
            cond = conditional_scores(
                self.sample,
                self.z_dim,
                self.classes,
                self.scorer.data_name,
                self.scorer.split,
                self.scorer.num_samples,
                self.scorer.extractor_name,
                seed=LATENT_SEED,
            )
        except UserError as e:  # e.g. a folder without labelled reference images: say so once, then stop trying
            warnings.warn(f"cgan: conditional scores skipped for the rest of the run: {e}", stacklevel=2)
            self.scores_classes = False
            return scores
        return scores | {k: v for k, v in cond.items() if isinstance(v, float)}  # class_accuracy, intra_fid

    def state_dict(self) -> dict[str, Any]:
        return players_state(self.tricks, self.scalers, self.schedulers)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        load_players_state(state, self.tricks, self.scalers, self.schedulers)


# A run of a few seconds on Fashion-MNIST (labelled, offline) for the conformance test.
SMOKE = [
    "data.name=fashion-mnist",
    "model.z_dim=8",
    "model.g_width=8",
    "model.d_width=8",
    "cgan.embed_dim=4",
    "train.batch_size=16",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
]


@register_method(
    "cgan",
    sections={"model": ModelConfig, "gan": GANConfig, "optim": OptimConfig, "cgan": CGANConfig},
    check=check_cgan,
    smoke=SMOKE,
    label=lambda cfg: f"cgan-{cfg.cgan.d_conditioning}" + ("-cbn" if cfg.cgan.g_conditioning == "batchnorm" else ""),
)
def build(cfg, spec: DataSpec, device: torch.device) -> CGAN:
    """The class-conditional GAN of a run config (``method: cgan``) for the labelled data of ``spec``."""
    return CGAN(cfg, spec, device)
