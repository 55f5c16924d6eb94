"""The GAN of the minimax game (Goodfellow et al. 2014, Algorithm 1):

    for each training iteration:
        for k steps:                                   # cfg.gan.d_steps
            sample m noise samples z and m examples x
            update D by descending J_D(x, G(z))
        sample m noise samples z
        update G by descending J_G(D(G(z)))           # D's parameters frozen

Real and fake minibatches pass through D separately, so batch norm in D never mixes their
statistics (a batch of all-real or all-fake would otherwise be told apart by its statistics).

The regularisers and tricks of ``cfg.gan`` (gradient penalties, clipping, label smoothing, instance
noise, DiffAugment, feature matching, historical averaging, the EMA of G, BEGAN's k_t) enter only
through the hooks of :class:`gankit.methods.tricks.Tricks`; with the defaults every hook is a no-op.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from gankit.data import DataSpec
from gankit.losses import LOSSES, GANLoss
from gankit.methods.gan_config import GANConfig, ModelConfig, OptimConfig, check_gan
from gankit.methods.registry import register_method
from gankit.methods.remedies import build_gan_nets, unrolled_g_step
from gankit.methods.schedule import build_schedulers
from gankit.methods.tricks import NO_TRICKS, Tricks
from gankit.metrics.scoring import GeneratorScorer
from gankit.nets.modes import eval_mode
from gankit.previews import Preview, samples_preview


def compile_module(module: nn.Module) -> nn.Module:
    """``torch.compile(module)``: the compiled wrapper is an ``nn.Module`` (torch types it as a plain callable)."""
    return cast(nn.Module, torch.compile(module))


def update(opt: torch.optim.Optimizer, loss: torch.Tensor, scaler: torch.amp.GradScaler | None = None) -> None:
    """Backpropagate ``loss`` and step ``opt`` (through a gradient scaler under fp16 autocast)."""
    opt.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        opt.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()


def d_step(
    G: nn.Module,
    D: nn.Module,
    opt_D: torch.optim.Optimizer,
    loss: GANLoss,
    x_real: torch.Tensor,
    z: torch.Tensor,
    tricks: Tricks = NO_TRICKS,
    scaler=None,
) -> dict[str, torch.Tensor]:
    """One discriminator update on a real and a generated minibatch (``tricks``: gankit.methods.tricks)."""
    with torch.no_grad():
        x_fake = G(z)
    x_real, x_fake = tricks.d_input(x_real), tricks.d_input(x_fake)  # DiffAugment, instance noise
    real_logits = D(x_real)
    fake_logits = D(x_fake)
    loss_D = loss.d(real_logits, fake_logits, **tricks.d_loss_kwargs())  # label smoothing, BEGAN's k_t
    reg, reg_stats = tricks.d_regulariser(D, x_real, x_fake)  # gradient penalty, historical averaging
    update(opt_D, loss_D + reg, scaler)
    return {
        "d_loss": loss_D.detach(),
        "d_real": torch.sigmoid(real_logits.detach()).mean(),  # mean D(x)
        "d_fake": torch.sigmoid(fake_logits.detach()).mean(),  # mean D(G(z))
        **reg_stats,
        **tricks.after_d_step(D, real_logits.detach(), fake_logits.detach()),  # clipping, k_t, W estimate
    }


def g_step(
    G: nn.Module,
    D: nn.Module,
    opt_G: torch.optim.Optimizer,
    loss: GANLoss,
    z: torch.Tensor,
    x_real: torch.Tensor | None = None,
    tricks: Tricks = NO_TRICKS,
    scaler=None,
) -> dict[str, torch.Tensor]:
    """One generator update through a frozen D."""
    D.requires_grad_(False)  # no gradients into D's parameters: cheaper, and D must not move here
    x_fake = G(z)
    fake_logits = D(tricks.d_input(x_fake))
    real_logits = D(tricks.d_input(x_real)) if loss.g_uses_real else None
    loss_G = loss.g(fake_logits, real_logits)
    reg, reg_stats = tricks.g_regulariser(G, D, x_real, x_fake)  # feature matching, historical averaging
    update(opt_G, loss_G + reg, scaler)
    D.requires_grad_(True)
    tricks.after_g_step(G)  # EMA of G
    return {"g_loss": loss_G.detach(), **reg_stats}


def players_state(tricks: Tricks, scalers: dict, schedulers: dict) -> dict[str, Any]:
    """What two players carry besides their weights and optimizers: the tricks' state, the fp16 gradient
    scalers and the learning-rate schedules (for the checkpoint)."""
    state = {f"scaler_{k}": s.state_dict() for k, s in scalers.items() if s is not None}
    state |= {f"lr_schedule_{k}": s.state_dict() for k, s in schedulers.items()}
    return {"tricks": tricks.state_dict(), **state}


def load_players_state(state: dict[str, Any], tricks: Tricks, scalers: dict, schedulers: dict) -> None:
    """The inverse of :func:`players_state` (keys a run did not write are left as they are)."""
    if "tricks" in state:
        tricks.load_state_dict(state["tricks"])
    for k, s in scalers.items():
        if s is not None and f"scaler_{k}" in state:
            s.load_state_dict(state[f"scaler_{k}"])
    for k, s in schedulers.items():
        if f"lr_schedule_{k}" in state:
            s.load_state_dict(state[f"lr_schedule_{k}"])


class GAN:
    """G and D with Adam, trained by :func:`d_step` (k times) and :func:`g_step` on batches of one stream."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        self.device, self.spec = device, spec
        self.z_dim = cfg.model.z_dim
        self.G, self.D = (m.to(device) for m in build_gan_nets(cfg, spec.shape))  # D packed when gan.pack > 1
        betas = tuple(cfg.optim.betas)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.optim.g_lr, betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.optim.d_lr, betas=betas)
        self.loss = LOSSES[cfg.gan.loss]
        self.d_steps = cfg.gan.d_steps
        self.unrolled_steps = cfg.gan.unrolled_steps
        self.tricks = Tricks.from_config(cfg, self.loss, self.G, self.D, device)  # regularisers and tricks
        self.modules = {"G": self.G, "D": self.D, **self.tricks.modules}  # + G_ema when gan.ema_decay > 0
        self.optimizers = {"G": self.opt_G, "D": self.opt_D}
        self.schedulers = build_schedulers(cfg.optim, cfg.train.steps, self.optimizers)  # optim.lr_schedule
        self.images_per_step = cfg.train.batch_size * self.d_steps
        # The latent batch behind every preview: the same for the whole run, and after resuming.
        self.z_preview = torch.randn(
            cfg.train.num_samples, self.z_dim, generator=torch.Generator().manual_seed(cfg.train.seed + 1_000_003)
        )
        self.scorer = GeneratorScorer.from_config(cfg)
        self.setup_modules()

    def setup(self, ctx) -> None:
        """Take one stream of training batches, and train G and D through the context's wrapper."""
        self.batches = ctx.stream("train")
        self.setup_modules(ctx.rank, ctx.world_size, ctx.wrap, ctx.compile, ctx.fp16)

    def setup_modules(
        self, rank: int = 0, world_size: int = 1, wrap=lambda m: m, compile: bool = False, fp16: bool = False
    ) -> None:
        """Prepare the modules that train: wrapped (DDP) and compiled when asked.

        D trains through its wrapper in the D step; G through its wrapper in the G step. The other
        network is then called unwrapped: frozen or under no_grad, it has no gradients to synchronise.
        """
        self.rank, self.world_size = rank, world_size
        self.G_eval, self.D_eval = (compile_module(self.G), compile_module(self.D)) if compile else (self.G, self.D)
        self.G_train, self.D_train = wrap(self.G_eval), wrap(self.D_eval)
        self.scalers = {k: torch.amp.GradScaler(self.device.type) if fp16 else None for k in ("G", "D")}

    def noise(self, n: int) -> torch.Tensor:
        """This process's share of a global noise batch: every rank draws the same global batch
        (their RNGs agree) and takes its slice, so N processes see exactly the noise one process would."""
        z = torch.randn(n * self.world_size, self.z_dim, device=self.device)
        return z[self.rank :: self.world_size]

    def real(self) -> torch.Tensor:
        return next(self.batches)["x"]

    def step(self) -> dict[str, torch.Tensor]:
        for _ in range(self.d_steps):
            x_real = self.real()
            stats = d_step(
                self.G_eval,
                self.D_train,
                self.opt_D,
                self.loss,
                x_real,
                self.noise(len(x_real)),
                self.tricks,
                self.scalers["D"],
            )
        if self.unrolled_steps:  # Metz et al. 2017: G steps against D unrolled K steps ahead
            g_stats = unrolled_g_step(
                self.G_train, self.D, self.opt_D, self.opt_G, self.loss, self.real, self.noise, self.unrolled_steps
            )
            self.tricks.after_g_step(self.G)  # the EMA of G
        else:
            g_stats = g_step(
                self.G_train,
                self.D_eval,
                self.opt_G,
                self.loss,
                self.noise(len(x_real)),
                x_real,
                self.tricks,
                self.scalers["G"],
            )
        for sched in self.schedulers.values():  # one tick per generator step
            sched.step()
        return {"d_loss": stats.pop("d_loss"), **g_stats, **stats}  # column order: d_loss, g_loss, d_real, d_fake

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """G(z), differentiable in z (inversion, inpainting): the sampling G in eval mode."""
        G = self.tricks.G_ema if self.tricks.G_ema is not None else self.G  # the EMA of G when it is kept
        with eval_mode(G):  # batch norm uses running statistics: a sample does not depend on its batch
            return G(z.to(self.device))

    @torch.no_grad()
    def sample(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(z, cond)

    def preview(self) -> Preview:
        return samples_preview(self.sample(self.z_preview), rate=self.spec.rate)

    def evaluate(self) -> dict[str, float]:
        return self.scorer(self.sample, self.z_dim)

    def state_dict(self) -> dict[str, Any]:
        return players_state(self.tricks, self.scalers, self.schedulers)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        load_players_state(state, self.tricks, self.scalers, self.schedulers)


# A run of a few seconds on a toy for the conformance test (tests/methods/test_conformance.py).
SMOKE = [
    "data.name=ring",
    "model.arch=mlp",
    "model.z_dim=2",
    "model.g_width=16",
    "model.d_width=16",
    "train.batch_size=16",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
]


@register_method(
    "gan",
    sections={"model": ModelConfig, "gan": GANConfig, "optim": OptimConfig},
    check=check_gan,
    smoke=SMOKE,
    label=lambda cfg: cfg.model.arch,
)
def build(cfg, spec: DataSpec, device: torch.device) -> GAN:
    """The GAN of a run config (``method: gan``): G, D and their optimizers for data of ``spec``."""
    return GAN(cfg, spec, device)
