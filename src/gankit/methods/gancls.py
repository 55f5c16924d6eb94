"""GAN-CLS, text-to-image synthesis with a matching-aware discriminator (Reed et al. 2016, "Generative
Adversarial Text to Image Synthesis", Algorithm 1), on captioned data (:mod:`gankit.data.captions`):

    for each training iteration:
        draw a minibatch of images x with one of each image's captions t, and mismatching captions t^
        encode h = phi(t), h^ = phi(t^); draw z ~ N(0, I); x^ = G(z, h)
        s_r = D(x, h), s_w = D(x, h^), s_f = D(x^, h)
        update D by ascending log s_r + (log(1 - s_w) + log(1 - s_f)) / 2      (:mod:`gankit.losses.text`)
        update G by ascending log s_f   [GAN-INT: + log D(G(z, h_int), h_int), h_int = (h_1 + h_2) / 2]
        [class term: D also descends w CE(c(x), y), G also w CE(c(x^), y), c a class head on D's features]
        [EMA: G_ema <- decay G_ema + (1 - decay) G; samples come from G_ema]

Each player has its own text encoder, trained with it (:mod:`gankit.nets.text`): ``gancls.encoder=words``
(trainable word vectors of the caption grammar) or ``glove`` (fixed GloVe vectors, ``pip install gankit[text]``).
The mismatching caption of an image is another image's caption of a different class (:func:`mismatched`):
a random one would match by chance for one image in ten. GAN-INT (sec. 4.3, ``gancls.int_weight`` > 0)
interpolates pairs of G's and D's sentence codes with beta = 1/2, as the paper does; the interpolated codes have
no image, so only G's loss sees them. ``gancls.augment`` > 0 draws G's code around each caption's with a KL term
(conditioning augmentation, Zhang et al. 2017; :class:`gankit.nets.text.TextGenerator`).
``gancls.class_weight`` > 0 adds AC-GAN's auxiliary classification term (Odena et al. 2017), as TAC-GAN does for
text (Dash et al. 2017): D's class head learns the real images' classes, G is asked for images it puts in the
captioned class. ``gancls.ema_decay`` > 0 keeps an EMA of G's weights to sample from (Yazici et al. 2019). The
preset's choice of both, on validation captions, is in docs/text-and-location.md.

As in :mod:`gankit.methods.gan`, real and fake minibatches pass through D separately (batch norm never mixes
their statistics; the mismatching pair is a third pass over the real images), and D is frozen in G's step.
A trained run's generator takes captions as token ids: ``method.sample(z, encode_captions([...]))``, or
``gankit sample --run R --text "a dark ankle boot"``.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field
from torch import nn

from gankit.config import Section
from gankit.data import DataSpec
from gankit.data.captions import CLASS_WORDS, VOCAB, encode_captions
from gankit.errors import UserError
from gankit.losses.text import auxiliary_class, d_matching_aware, g_matching_aware, mismatched
from gankit.methods.gan import update
from gankit.methods.gan_config import ModelConfig, OptimConfig
from gankit.methods.registry import register_method
from gankit.methods.schedule import build_schedulers
from gankit.methods.tricks.g_side import PredictsWithEMA
from gankit.nets.modes import eval_mode
from gankit.nets.text import GLOVE_DIM, TextDiscriminator, TextGenerator, glove_vectors, text_gan
from gankit.previews import Preview, samples_preview

# The preview: a row per class, two latents (the same in every row) under each of these phrasings.
PREVIEW_CAPTIONS = ("a {c}", "a dark {c}", "a bright {c}", "a small {c}", "a large {c}")
PREVIEW_LATENTS = 2


class GANCLSConfig(Section):
    """GAN-CLS (method: gancls); G and D are model.*, their text encoders and D's conditioning are set here."""

    encoder: Literal["words", "glove"] = "words"  # trainable word vectors, or fixed GloVe 6B 50-d (gankit[text])
    word_dim: int = Field(32, gt=0)  # encoder=words: size of a word vector
    embed_dim: int = Field(32, gt=0)  # size of the sentence code phi(t) (Reed et al.: 128 from 1024)
    d_conditioning: Literal["projection", "concat"] = "projection"  # concat: Reed et al.'s, at D's last features
    int_weight: float = Field(0.0, ge=0)  # GAN-INT: weight of G's loss on interpolated codes (0: off, 1: paper)
    augment: float = Field(0.0, ge=0)  # conditioning augmentation (StackGAN): weight of its KL term (0: off)
    pooling: Literal["sum", "mean", "max"] = "sum"  # of the word vectors of a caption, in both encoders
    class_weight: float = Field(0.0, ge=0)  # AC-GAN's class term on a head of D (TAC-GAN; 0: off)
    ema_decay: float = Field(0.0, ge=0, lt=1)  # sample from an EMA of G's weights (Yazici et al. 2019; 0: off)


def d_step(
    G: TextGenerator, D: TextDiscriminator, opt_D, x_real, t_right, t_wrong, z, scaler=None, y=None,
    class_weight: float = 0.0,
) -> dict:
    """One matching-aware update of D on (real, right), (real, wrong) and (G(z, right), right); with
    ``class_weight`` > 0, plus that times the class head's cross-entropy on the real images (classes ``y``)."""
    with torch.no_grad():
        x_fake = G(z, t_right)
    stats = {}
    if class_weight > 0:
        real_right, real_classes = D(x_real, t_right, classes=True)
        loss_class = auxiliary_class(real_classes, y)
        stats = {"d_class": loss_class.detach()}
    else:
        real_right, loss_class = D(x_real, t_right), x_real.new_zeros(())
    real_wrong = D(x_real, t_wrong)
    fake_right = D(x_fake, t_right)
    loss_D = d_matching_aware(real_right, real_wrong, fake_right)
    update(opt_D, loss_D + class_weight * loss_class, scaler)
    return {
        "d_loss": loss_D.detach(),
        "d_real": torch.sigmoid(real_right.detach()).mean(),  # mean D(x, t)
        "d_wrong": torch.sigmoid(real_wrong.detach()).mean(),  # mean D(x, t^): falls as D reads the text
        "d_fake": torch.sigmoid(fake_right.detach()).mean(),  # mean D(G(z, t), t)
        **stats,
    }


def g_step(
    G: TextGenerator, D: TextDiscriminator, opt_G, z, t_right, int_weight: float = 0.0, kl_weight: float = 0.0,
    scaler=None, y=None, class_weight: float = 0.0,
) -> dict:
    """One update of G through a frozen D; with GAN-INT, also on the midpoints of pairs of captions' codes; with
    conditioning augmentation, plus ``kl_weight`` times its KL term; with ``class_weight`` > 0, plus that times
    the cross-entropy of D's class head on G's images against the captions' classes ``y``."""
    D.requires_grad_(False)  # no gradients into D's parameters: cheaper, and D must not move here
    n, gan_int = len(z), int_weight > 0
    # GAN-INT's samples come from the same pass of G as the others (one forward per backward under DDP)
    x_fake, kl = G(torch.cat([z, z]) if gan_int else z, t_right, return_kl=True, append_midpoints=gan_int)
    x_fake, x_int = x_fake[:n], x_fake[n:]
    if class_weight > 0:  # the class is the caption's: its image's class, as t_right is that image's caption
        fake_right, fake_classes = D(x_fake, t_right, classes=True)
        loss_class = auxiliary_class(fake_classes, y)
    else:
        fake_right, loss_class = D(x_fake, t_right), x_fake.new_zeros(())
    loss_G = g_matching_aware(fake_right)
    stats = {"g_loss": loss_G.detach()}
    total = loss_G
    if class_weight > 0:
        total = total + class_weight * loss_class
        stats["g_class"] = loss_class.detach()
    if kl_weight > 0:
        total = total + kl_weight * kl
        stats["g_kl"] = kl.detach()
    if gan_int:  # the midpoints of captions i and i-1 of the batch, beta = 1/2 (Reed et al., sec. 4.3)
        loss_int = g_matching_aware(D(x_int, t_right, interpolate=True))
        total = total + int_weight * loss_int
        stats["g_int"] = loss_int.detach()
    update(opt_G, total, scaler)
    D.requires_grad_(True)
    return stats


class GANCLS(PredictsWithEMA):
    """A text-conditional G and D with Adam, trained by :func:`d_step` and :func:`g_step`; a generator whose
    ``cond`` is a LongTensor of token ids (N x L, :func:`gankit.data.captions.encode_captions`)."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        if "caption" not in spec.cond:
            raise UserError(
                f"method gancls: data.name={cfg.data.name} has no captions; use data.name=fashion-mnist-captions"
            )
        c = cfg.gancls
        self.device, self.spec, self.encoder = device, spec, c.encoder
        self.classes, self.z_dim = spec.classes, cfg.model.z_dim
        self.int_weight, self.kl_weight, self.class_weight = c.int_weight, c.augment, c.class_weight
        # GloVe's vectors are filled in by setup(), for training only: a trained run keeps them in its weights
        # and samples without the package.
        vectors = torch.zeros(len(VOCAB), GLOVE_DIM) if c.encoder == "glove" else None
        try:
            G, D = text_gan(cfg.model, spec.shape, len(VOCAB), c.word_dim, c.embed_dim, c.d_conditioning, vectors,
                            augment=c.augment > 0, num_classes=len(spec.classes) if c.class_weight > 0 else 0,
                            pooling=c.pooling)  # fmt: skip
        except ValueError as e:
            raise UserError(f"gancls.d_conditioning={c.d_conditioning}: {e} (model.arch={cfg.model.arch})") from None
        self.G, self.D = G.to(device), D.to(device)
        betas = tuple(cfg.optim.betas)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.optim.g_lr, betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.optim.d_lr, betas=betas)
        self.modules: dict[str, nn.Module] = {"G": self.G, "D": self.D}
        # The EMA of G's weights samples in G's place (decode, preview, gankit sample); training never reads it.
        self.init_ema(c.ema_decay)
        self.optimizers = {"G": self.opt_G, "D": self.opt_D}
        self.schedulers = build_schedulers(cfg.optim, cfg.train.steps, self.optimizers)
        self.images_per_step = cfg.train.batch_size
        # Preview latents from their own generator: training's random stream is untouched, and they are the same
        # for the whole run and after resuming.
        g = torch.Generator().manual_seed(cfg.train.seed + 1_000_003)
        z = torch.randn(PREVIEW_LATENTS, self.z_dim, generator=g)
        names = [names[0] for names in CLASS_WORDS]
        captions = [p.format(c=n).replace("a ankle", "an ankle") for n in names for p in PREVIEW_CAPTIONS]
        self.t_preview = encode_captions(captions).repeat_interleave(PREVIEW_LATENTS, 0)  # [K * 5 * 2, L]
        self.z_preview = z.repeat(len(captions), 1)
        self.t_default = encode_captions([captions[k * len(PREVIEW_CAPTIONS)] for k in range(len(names))])
        self.G_train, self.D_train = self.G, self.D
        self.scalers: dict[str, Any] = {"G": None, "D": None}
        self.rank, self.world_size = 0, 1

    def setup(self, ctx) -> None:
        """Take one stream of captioned batches; G and D train through the context's wrapper (DDP)."""
        self.batches = ctx.stream("train")
        self.rank, self.world_size = ctx.rank, ctx.world_size
        self.G_train, self.D_train = ctx.wrap(self.G), ctx.wrap(self.D)
        self.scalers = {k: torch.amp.GradScaler(self.device.type) if ctx.fp16 else None for k in ("G", "D")}
        if self.encoder == "glove":  # fixed vectors of the grammar's words; saved with the weights from here on
            vectors = glove_vectors(VOCAB).to(self.device)
            for encoder in (self.G.encoder, self.D.encoder):
                encoder.words.copy_(vectors)

    def noise(self, n: int) -> torch.Tensor:
        """This process's share of a global batch of latents (every rank draws the same batch: RNGs agree)."""
        return torch.randn(n * self.world_size, self.z_dim, device=self.device)[self.rank :: self.world_size]

    def step(self) -> dict[str, torch.Tensor]:
        batch = next(self.batches)
        x_real, y, captions = batch["x"], batch["y"], batch["caption"]  # captions: [N, P, L]
        # One of each image's P captions, drawn from the global RNG (this rank's slice of a global draw).
        pick = torch.randint(captions.shape[1], (len(x_real) * self.world_size,), device=self.device)
        t_right = captions[torch.arange(len(x_real), device=self.device), pick[self.rank :: self.world_size]]
        t_wrong = mismatched(t_right, y)
        stats = d_step(self.G, self.D_train, self.opt_D, x_real, t_right, t_wrong, self.noise(len(x_real)),
                       self.scalers["D"], y, self.class_weight)  # fmt: skip
        g_stats = g_step(self.G_train, self.D, self.opt_G, self.noise(len(x_real)), t_right, self.int_weight,
                         self.kl_weight, self.scalers["G"], y, self.class_weight)  # fmt: skip
        self.ema_after_step()
        for sched in self.schedulers.values():  # one tick per generator step
            sched.step()
        return {"d_loss": stats.pop("d_loss"), **g_stats, **stats}

    def captions(self, n: int, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Token ids for ``n`` samples: ``cond`` (n rows, or one row for all), else ``a <class>`` for the classes
        in turn (every class equally often, deterministically)."""
        if cond is None:
            return self.t_default[torch.arange(n) % len(self.t_default)].to(self.device)
        t = torch.as_tensor(cond, device=self.device).long()
        return t.expand(n, -1) if t.dim() == 1 else t

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """G(z, t) in eval mode (the EMA of G when it is kept), differentiable in z; ``cond``: token ids (see
        :meth:`captions`)."""
        G = self.predictor
        with eval_mode(G):  # batch norm uses running statistics: a sample does not depend on its batch
            return G(z.to(self.device), self.captions(len(z), cond))

    @torch.no_grad()
    def sample(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(z, cond)

    def preview(self) -> Preview:
        """A row per class: two latents under each of ``a <class>``, ``a dark ...``, ``a bright ...``, ``a small
        ...``, ``a large ...``."""
        x = self.sample(self.z_preview, self.t_preview)
        return samples_preview(x, nrow=len(PREVIEW_CAPTIONS) * PREVIEW_LATENTS)

    def evaluate(self) -> dict[str, float]:
        return {}  # the held-out caption scores are benchmarks/text_to_image.py's (they need the test split)

    def state_dict(self) -> dict[str, Any]:
        state = {f"scaler_{k}": s.state_dict() for k, s in self.scalers.items() if s is not None}
        state |= self.ema_state()  # the clock of the EMA's warm-up
        return state | {f"lr_schedule_{k}": s.state_dict() for k, s in self.schedulers.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.load_ema_state(state)
        for k, scaler in self.scalers.items():
            if scaler is not None and f"scaler_{k}" in state:
                scaler.load_state_dict(state[f"scaler_{k}"])
        for k, sched in self.schedulers.items():
            if f"lr_schedule_{k}" in state:
                sched.load_state_dict(state[f"lr_schedule_{k}"])


# A run of a few seconds on captioned Fashion-MNIST (offline) for the conformance test.
SMOKE = [
    "data.name=fashion-mnist-captions",
    "model.z_dim=8",
    "model.g_width=8",
    "model.d_width=8",
    "gancls.word_dim=8",
    "gancls.embed_dim=8",
    "gancls.int_weight=1.0",
    "gancls.augment=1.0",
    "gancls.class_weight=1.0",
    "gancls.ema_decay=0.9",
    "train.batch_size=16",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
]


@register_method("gancls", sections={"model": ModelConfig, "optim": OptimConfig, "gancls": GANCLSConfig}, smoke=SMOKE)
def build(cfg, spec: DataSpec, device: torch.device) -> GANCLS:
    """GAN-CLS of a run config (``method: gancls``) for the captioned data of ``spec``."""
    return GANCLS(cfg, spec, device)
