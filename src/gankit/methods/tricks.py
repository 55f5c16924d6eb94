"""The GAN regularisers and training tricks, each a switch in ``cfg.gan`` / ``cfg.model`` that composes
with any loss where that makes sense (docs/losses.md has a section per trick).

:class:`Tricks` holds their settings and state, and offers the hooks that the GAN's ``d_step`` and
``g_step`` (:mod:`gankit.methods.gan`) call at fixed points of Algorithm 1:

    d_input(x)                  what D sees: DiffAugment, instance noise (reals and fakes alike)
    d_loss_kwargs()             extra arguments of the loss: one-sided label smoothing, BEGAN's k_t
    d_regulariser(D, xr, xf)    added to D's loss: gradient penalty, historical averaging
    after_d_step(D, or, of)     weight clipping, BEGAN's k_t update, logged estimates
    g_regulariser(G, D, xr, xf) added to G's loss: feature matching, historical averaging
    after_g_step(G)             the EMA of G's weights, the clock of the schedules

Spectral normalisation is applied when D is built (:func:`gankit.nets.build_gan`); TTUR is
``optim.g_lr`` != ``optim.d_lr`` and ``d_steps`` is ``gan.d_steps``: neither needs a hook.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from gankit.errors import UserError
from gankit.losses import GANLoss
from gankit.losses.began import began_update
from gankit.losses.penalties import dragan_points, interpolates, r1_penalty, unit_gradient_penalty
from gankit.nets import unwrap
from gankit.nets.augment import diff_augment


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """theta_ema <- decay * theta_ema + (1 - decay) * theta for every parameter; buffers (batch-norm
    statistics, spectral-norm vectors) are copied, since averaging them has no meaning."""
    for p_ema, p in zip(ema.parameters(), model.parameters()):
        p_ema.lerp_(p, 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)


def ema_decay_at(decay: float, step: int) -> float:
    """The decay used at update ``step`` (0-based): min(decay, (1 + t) / (10 + t)), so that early on the
    average forgets the random initialisation quickly (the warm-up of tf.train.ExponentialMovingAverage)."""
    return min(decay, (1.0 + step) / (10.0 + step))


class HistoricalAverage:
    """Salimans et al. 2016, Sec. 3.3: the penalty ||theta - (1/t) sum_i theta_i||^2 of a player's
    parameters against their running mean over past steps."""

    def __init__(self, module: nn.Module):
        self.mean = {k: p.detach().clone() for k, p in module.named_parameters()}
        self.count = 1

    def penalty(self, module: nn.Module) -> torch.Tensor:
        return sum((p - self.mean[k]).pow(2).sum() for k, p in unwrap(module).named_parameters())

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        self.count += 1
        for k, p in unwrap(module).named_parameters():
            self.mean[k] += (p - self.mean[k]) / self.count

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean = {k: v.to(self.mean[k].device) for k, v in state["mean"].items()}
        self.count = int(state["count"])


def d_features(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """D's last hidden layer on ``x``, flattened (N x F): ``D.features`` where D has it (DCGAN, ResNet),
    else all but the last layer of ``D.net`` (the MLP)."""
    D = unwrap(D)
    if hasattr(D, "features"):
        return D.features(x).flatten(1)
    if isinstance(getattr(D, "net", None), nn.Sequential):
        return D.net[:-1](x).flatten(1)
    raise UserError(f"gan.feature_matching: the discriminator {type(D).__name__} exposes no feature layer")


class Tricks:
    """Settings and state of the tricks; ``Tricks()`` switches everything off (see the module docstring).

    Args mirror :class:`gankit.config.GANConfig`; ``total_steps`` is the run's G steps (the default
    length of the instance-noise schedule).
    """

    def __init__(self, loss: GANLoss | None = None, *, G: nn.Module | None = None, D: nn.Module | None = None, penalty: str = "none", penalty_weight: float = 10.0, clip_weights: float | None = None, label_smoothing: float = 0.0, instance_noise: float = 0.0, instance_noise_steps: int | None = None, total_steps: int = 1, feature_matching: float = 0.0, historical_averaging: float = 0.0, ema_decay: float = 0.0, diffaugment: str = "", began_gamma: float = 0.5, began_lambda_k: float = 1e-3, device: torch.device | str = "cpu"):
        self.loss = loss or GANLoss(d=None, g=None)
        self.penalty, self.penalty_weight, self.clip = penalty, penalty_weight, clip_weights
        self.label_smoothing, self.fm_weight, self.ha_weight = label_smoothing, feature_matching, historical_averaging
        self.noise, self.noise_steps = instance_noise, instance_noise_steps or total_steps
        self.policy, self.ema_decay = diffaugment, ema_decay
        self.gamma, self.lambda_k = began_gamma, began_lambda_k
        self.k = torch.zeros((), device=device)  # BEGAN's k_0 = 0
        self.step = 0  # G steps taken: the clock of the noise schedule and the EMA warm-up
        self.G_ema = copy.deepcopy(G).requires_grad_(False) if (ema_decay > 0 and G is not None) else None
        self.hist_G = HistoricalAverage(G) if (historical_averaging > 0 and G is not None) else None
        self.hist_D = HistoricalAverage(D) if (historical_averaging > 0 and D is not None) else None

    @classmethod
    def from_config(cls, cfg, loss: GANLoss, G: nn.Module, D: nn.Module, device: torch.device) -> Tricks:
        """The tricks a :class:`gankit.config.RunConfig` asks for, around the (already built) G and D."""
        g = cfg.gan
        return cls(loss, G=G, D=D, penalty=g.penalty, penalty_weight=g.penalty_weight, clip_weights=g.clip_weights, label_smoothing=g.label_smoothing, instance_noise=g.instance_noise, instance_noise_steps=g.instance_noise_steps, total_steps=cfg.train.steps, feature_matching=g.feature_matching, historical_averaging=g.historical_averaging, ema_decay=g.ema_decay, diffaugment=g.diffaugment, began_gamma=g.began_gamma, began_lambda_k=g.began_lambda_k, device=device)

    @property
    def modules(self) -> dict[str, nn.Module]:
        """Modules to checkpoint beside G and D."""
        return {"G_ema": self.G_ema} if self.G_ema is not None else {}

    # ------------------------------------------------------------------ D's step

    def noise_std(self) -> float:
        """Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017): sigma_0 (1 - t / T), clipped at 0."""
        return self.noise * max(0.0, 1.0 - self.step / self.noise_steps)

    def d_input(self, x: torch.Tensor | None) -> torch.Tensor | None:
        """What D sees of a real or generated batch (differentiably: G's gradient passes)."""
        if x is None:
            return None
        if self.policy:
            x = diff_augment(x, self.policy)
        std = self.noise_std()
        if std > 0:
            x = x + std * torch.randn_like(x)
        return x

    def d_loss_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.label_smoothing:
            kwargs["real_label"] = 1.0 - self.label_smoothing
        if self.loss.autoencoder:
            kwargs["k"] = self.k
        return kwargs

    def d_regulariser(self, D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> tuple[torch.Tensor | float, dict[str, torch.Tensor]]:
        """The terms added to D's loss, and their logged values."""
        total, stats = 0.0, {}
        if self.penalty != "none":
            if self.penalty == "wgan-gp":
                pen = unit_gradient_penalty(D, interpolates(x_real, x_fake))
            elif self.penalty == "dragan":
                pen = unit_gradient_penalty(D, dragan_points(x_real))
            else:  # r1
                pen = r1_penalty(D, x_real)
            total, stats["penalty"] = self.penalty_weight * pen, pen.detach()
        if self.hist_D is not None:
            total = total + self.ha_weight * self.hist_D.penalty(D)
        return total, stats

    @torch.no_grad()
    def after_d_step(self, D: nn.Module, real_out: torch.Tensor, fake_out: torch.Tensor) -> dict[str, torch.Tensor]:
        """Weight clipping, BEGAN's control, historical mean; returns scalars to log."""
        stats = {}
        if self.clip is not None:
            for p in D.parameters():  # WGAN: keep the critic in a compact set of K-Lipschitz functions
                p.clamp_(-self.clip, self.clip)
        if self.loss.critic:
            stats["wasserstein_estimate"] = real_out.mean() - fake_out.mean()  # E f(x) - E f(G(z))
        if self.loss.autoencoder:
            self.k, m_global = began_update(self.k, real_out, fake_out, self.gamma, self.lambda_k)
            stats["began_k"], stats["began_m_global"] = self.k.clone(), m_global
        if self.hist_D is not None:
            self.hist_D.update(D)
        return stats

    # ------------------------------------------------------------------ G's step

    def g_regulariser(self, G: nn.Module, D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> tuple[torch.Tensor | float, dict[str, torch.Tensor]]:
        """The terms added to G's loss: feature matching ||E f(x) - E f(G(z))||^2 (Salimans et al. 2016,
        Sec. 3.1) on D's last hidden layer, and historical averaging."""
        total, stats = 0.0, {}
        if self.fm_weight:
            with torch.no_grad():
                f_real = d_features(D, self.d_input(x_real)).mean(0)
            fm = (d_features(D, self.d_input(x_fake)).mean(0) - f_real).pow(2).sum()
            total, stats["feature_matching"] = self.fm_weight * fm, fm.detach()
        if self.hist_G is not None:
            total = total + self.ha_weight * self.hist_G.penalty(G)
        return total, stats

    def after_g_step(self, G: nn.Module) -> None:
        if self.G_ema is not None:
            ema_update(self.G_ema, G, ema_decay_at(self.ema_decay, self.step))
        if self.hist_G is not None:
            self.hist_G.update(G)
        self.step += 1

    # ------------------------------------------------------------------ checkpoint

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"step": self.step, "k": self.k}
        if self.hist_G is not None:
            state["hist_G"], state["hist_D"] = self.hist_G.state_dict(), self.hist_D.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.k = state["k"].to(self.k.device)
        if self.hist_G is not None and "hist_G" in state:
            self.hist_G.load_state_dict(state["hist_G"])
            self.hist_D.load_state_dict(state["hist_D"])


NO_TRICKS = Tricks()
