"""The tricks on G's side: feature matching in G's loss, the EMA of G's weights, and historical averaging of both
players, with their helpers (:func:`d_features`, :func:`ema_update`, :func:`ema_decay_at`, :class:`HistoricalAverage`).
Registered after :mod:`.d_side`, in this file's order (see :mod:`gankit.methods.tricks`).
"""

from __future__ import annotations

import copy
from typing import Any, cast

import torch
from torch import nn

from gankit.errors import UserError
from gankit.methods.tricks.base import Trick, register_trick
from gankit.nets import unwrap

# ---------------------------------------------------------------------------- G's loss and after G's step


def d_features(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """D's last hidden layer on ``x``, flattened (N x F): ``D.features`` where D has it (DCGAN, ResNet),
    else all but the last layer of ``D.net`` (the MLP)."""
    net: Any = unwrap(D)  # a D with .features or .net (nn.Module types sub-modules loosely)
    if hasattr(net, "features"):
        return net.features(x).flatten(1)
    if isinstance(getattr(net, "net", None), nn.Sequential):
        return net.net[:-1](x).flatten(1)
    raise UserError(f"gan.feature_matching: the discriminator {type(net).__name__} exposes no feature layer")


@register_trick("feature_matching")
class FeatureMatching(Trick):
    """Feature matching (Salimans et al. 2016, Sec. 3.1): ||E f(x) - E f(G(z))||^2 on D's last hidden layer f,
    added to G's loss; both batches pass through what D sees (:meth:`Trick.d_view`)."""

    def __init__(self, weight: float):
        self.weight = weight

    def g_regulariser(self, G, D, x_real, x_fake):
        with torch.no_grad():
            f_real = d_features(D, self.d_view(x_real)).mean(0)
        fm = (d_features(D, self.d_view(x_fake)).mean(0) - f_real).pow(2).sum()
        return self.weight * fm, {"feature_matching": fm.detach()}


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


@register_trick("ema")
class EMA(Trick):
    """An exponential moving average of G's weights (Yazici et al. 2019), used for sampling: ``G_ema``."""

    def __init__(self, G: nn.Module, decay: float):
        self.G_ema = copy.deepcopy(G).requires_grad_(False)
        self.decay = decay
        self.step = 0  # updates made: the clock of the warm-up

    @classmethod
    def from_config(cls, cfg, loss, G, D, device):
        return cls(G, cfg.gan.ema_decay) if cfg.gan.ema_decay > 0 else None

    @property
    def modules(self):
        return {"G_ema": self.G_ema}  # its weights are checkpointed as a module

    def after_g_step(self, G):
        ema_update(self.G_ema, G, ema_decay_at(self.decay, self.step))
        self.step += 1

    def state_dict(self):
        return {"step": self.step}

    def load_state_dict(self, state):
        self.step = int(state["step"])


class PredictsWithEMA:
    """For methods outside the GAN's trick loop whose G predicts through an :class:`EMA` of its weights (GAN-CLS
    samples, SEGAN's enhancement, next-frame rollouts): one copy of the wiring. Call :meth:`init_ema` once
    ``self.G`` and ``self.modules`` exist and :meth:`ema_after_step` after each G update; :attr:`predictor` is
    the G to predict with; the warm-up clock is checkpointed as ``{"ema_steps": N}`` (:meth:`ema_state`)."""

    G: Any  # the method's own G class (Any: an nn.Module here would hide its own methods from the type checker)
    modules: dict[str, nn.Module]
    ema: EMA | None = None

    def init_ema(self, decay: float) -> None:
        self.ema = EMA(self.G, decay) if decay > 0 else None
        if self.ema:
            self.modules |= self.ema.modules

    def ema_after_step(self) -> None:
        if self.ema:
            self.ema.after_g_step(self.G)

    @property
    def G_ema(self) -> nn.Module | None:
        return self.ema.G_ema if self.ema else None

    @property
    def predictor(self) -> nn.Module:
        """The EMA of G when there is one, else G."""
        return self.ema.G_ema if self.ema else self.G

    @property
    def ema_steps(self) -> int:
        """Updates of the EMA so far: the clock of its warm-up (0 without an EMA)."""
        return self.ema.step if self.ema else 0

    def ema_state(self) -> dict[str, Any]:
        return {"ema_steps": self.ema_steps} if self.ema else {}

    def load_ema_state(self, state: dict[str, Any]) -> None:
        if self.ema:
            self.ema.load_state_dict({"step": state.get("ema_steps", 0)})


class HistoricalAverage:
    """Salimans et al. 2016, Sec. 3.3: the penalty ||theta - (1/t) sum_i theta_i||^2 of a player's
    parameters against their running mean over past steps."""

    def __init__(self, module: nn.Module):
        self.mean = {k: p.detach().clone() for k, p in module.named_parameters()}
        self.count = 1

    def penalty(self, module: nn.Module) -> torch.Tensor:
        return cast(torch.Tensor, sum((p - self.mean[k]).pow(2).sum() for k, p in unwrap(module).named_parameters()))

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


@register_trick("historical_averaging")
class HistoricalAveraging(Trick):
    """Historical averaging of both players (Salimans et al. 2016, Sec. 3.3), weighted, in D's and G's loss."""

    def __init__(self, G: nn.Module, D: nn.Module, weight: float):
        self.hist_G, self.hist_D, self.weight = HistoricalAverage(G), HistoricalAverage(D), weight

    @classmethod
    def from_config(cls, cfg, loss, G, D, device):
        return cls(G, D, cfg.gan.historical_averaging) if cfg.gan.historical_averaging > 0 else None

    def d_regulariser(self, D, x_real, x_fake):
        return self.weight * self.hist_D.penalty(D), {}

    def after_d_step(self, D, real_out, fake_out):
        self.hist_D.update(D)
        return {}

    def g_regulariser(self, G, D, x_real, x_fake):
        return self.weight * self.hist_G.penalty(G), {}

    def after_g_step(self, G):
        self.hist_G.update(G)

    def state_dict(self):
        return {"G": self.hist_G.state_dict(), "D": self.hist_D.state_dict()}

    def load_state_dict(self, state):
        self.hist_G.load_state_dict(state["G"])
        self.hist_D.load_state_dict(state["D"])
