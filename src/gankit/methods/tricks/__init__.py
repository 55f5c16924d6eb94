"""The GAN regularisers and training tricks, each a switch in ``cfg.gan`` that composes with any loss where
that makes sense (docs/losses.md has a section per trick), as a registry of small classes.

A trick is a :class:`Trick`: it overrides the hooks it needs, which the GAN's ``d_step`` and ``g_step``
(:mod:`gankit.methods.gan`) call at fixed points of Algorithm 1; the rest stay no-ops:

    d_input(x)                  what D sees: DiffAugment, instance noise (reals and fakes alike)
    d_loss_kwargs()             extra arguments of the loss: one-sided label smoothing, BEGAN's k_t
    d_regulariser(D, xr, xf)    (term, stats) added to D's loss: gradient penalty, consistency, historical averaging
    after_d_step(D, ro, fo)     stats; weight clipping, the Wasserstein estimate, BEGAN's k_t, historical mean
    g_regulariser(G, D, xr, xf) (term, stats) added to G's loss: feature matching, historical averaging
    after_g_step(G)             the EMA of G's weights, historical mean, the clocks of the schedules
    modules                     networks to checkpoint beside G and D (the EMA of G)
    state_dict() / load_state_dict(state)    what a resumed run needs (clocks, running means, k_t)

Adding a trick takes one small class, one config field (``gan.my_trick: float = 0.0`` in GANConfig) and
one registry line, named like the field, in ``d_side.py`` or ``g_side.py`` (which import ``Trick`` and
``register_trick`` from ``base.py``, never from this package, so that nothing imports in a circle)::

    @register_trick("my_trick")                  # built as MyTrick(cfg.gan.my_trick) when that is set
    class MyTrick(Trick):                        # docstring: the paper, what it adds and why
        def __init__(self, weight: float):
            self.weight = weight
        def d_regulariser(self, D, x_real, x_fake):
            term = ...
            return self.weight * term, {"my_trick": term.detach()}

A trick with more than one setting, or one that needs G, D or the loss, overrides ``from_config``, which
returns None when the trick is switched off. Each trick keeps its own state (a clock, running means).

:class:`Tricks` is the composite the training step sees: it calls each hook of the active tricks in
registry order, which is the order of the imports below: :mod:`.d_side` then :mod:`.g_side`, each in the
order of its file: DiffAugment before instance noise on D's input; the penalty before
historical averaging in D's loss; clipping, then the estimates, then the historical mean after D's step;
feature matching before historical averaging in G's loss; the EMA before the historical mean of G.
A new trick goes in the file of the side it acts on, at the place in that order where its hooks should run.

The package: :mod:`.base` (:class:`Trick`, :data:`TRICKS`, :func:`register_trick`), :mod:`.d_side` (the tricks on
D's input, loss and step), :mod:`.g_side` (feature matching, the EMA of G, historical averaging), and here the
composite :class:`Tricks` and :data:`NO_TRICKS`.

Spectral normalisation is applied when D is built (:func:`gankit.nets.build_gan`); TTUR is
``optim.g_lr`` != ``optim.d_lr`` and ``d_steps`` is ``gan.d_steps``: neither needs a hook.
"""

from __future__ import annotations

from typing import Any, Iterable, overload

import torch
from torch import nn

from gankit.losses import GANLoss

# The registry fills in as these are imported: base first, then D's side, then G's side (the hooks' order).
from gankit.methods.tricks.base import TRICKS, Regulariser, Trick, register_trick
from gankit.methods.tricks.d_side import (
    BEGANEquilibrium,
    Consistency,
    DiffAugment,
    GradientPenalty,
    InstanceNoise,
    LabelSmoothing,
    VirtualBatchNormTrick,
    WassersteinEstimate,
    WeightClipping,
)
from gankit.methods.tricks.g_side import (
    EMA,
    FeatureMatching,
    HistoricalAverage,
    HistoricalAveraging,
    d_features,
    ema_decay_at,
    ema_update,
)

__all__ = [
    "TRICKS",
    "Regulariser",
    "Trick",
    "register_trick",
    "BEGANEquilibrium",
    "Consistency",
    "DiffAugment",
    "GradientPenalty",
    "InstanceNoise",
    "LabelSmoothing",
    "VirtualBatchNormTrick",
    "WassersteinEstimate",
    "WeightClipping",
    "EMA",
    "FeatureMatching",
    "HistoricalAverage",
    "HistoricalAveraging",
    "d_features",
    "ema_decay_at",
    "ema_update",
    "Tricks",
    "NO_TRICKS",
]


# ---------------------------------------------------------------------------- the composite


def _from_old_layout(state: dict[str, Any]) -> dict[str, Any]:
    """Checkpoints written before the registry held {"step", "k", "hist_G", "hist_D"}: one clock for all."""
    clock = {"step": state["step"]}
    new: dict[str, Any] = {"instance_noise": clock, "ema": clock, "began": {"k": state["k"]}}
    if "hist_G" in state:
        new["historical_averaging"] = {"G": state["hist_G"], "D": state["hist_D"]}
    return new


class Tricks:
    """The active tricks, called hook by hook in registry order; ``Tricks()`` switches everything off.

    Args:
        tricks: :class:`Trick` instances (at most one per registry name), in any order.
    """

    def __init__(self, tricks: Iterable[Trick] = ()):
        order = list(TRICKS)
        self.active: dict[str, Trick] = {t.name: t for t in sorted(tricks, key=lambda t: order.index(t.name))}
        for t in self.active.values():
            t.d_view = self.d_input  # feature matching sees G's batches as D does

    @classmethod
    def from_config(cls, cfg, loss: GANLoss, G: nn.Module, D: nn.Module, device: torch.device) -> Tricks:
        """The tricks a :class:`gankit.config.RunConfig` asks for, around the (already built) G and D."""
        built = (trick.from_config(cfg, loss, G, D, device) for trick in TRICKS.values())
        return cls(t for t in built if t is not None)

    @property
    def G_ema(self) -> nn.Module | None:
        """The EMA of G's weights (``gan.ema_decay`` > 0), else None."""
        return getattr(self.active["ema"], "G_ema") if "ema" in self.active else None  # noqa: B009 (Trick has no G_ema)

    @property
    def modules(self) -> dict[str, nn.Module]:
        """Modules to checkpoint beside G and D."""
        return {k: m for t in self.active.values() for k, m in t.modules.items()}

    @overload
    def d_input(self, x: torch.Tensor) -> torch.Tensor: ...

    @overload
    def d_input(self, x: None) -> None: ...

    def d_input(self, x: torch.Tensor | None) -> torch.Tensor | None:
        """What D sees of a real or generated batch (differentiably: G's gradient passes)."""
        if x is None:
            return None
        for t in self.active.values():
            x = t.d_input(x)
        return x

    def d_loss_kwargs(self) -> dict[str, Any]:
        return {k: v for t in self.active.values() for k, v in t.d_loss_kwargs().items()}

    def d_regulariser(self, D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> Regulariser:
        """The terms added to D's loss, and their logged values."""
        return self._sum(t.d_regulariser(D, x_real, x_fake) for t in self.active.values())

    @torch.no_grad()
    def after_d_step(self, D: nn.Module, real_out: torch.Tensor, fake_out: torch.Tensor) -> dict[str, torch.Tensor]:
        """Updates after D's step (clipping, BEGAN's control, historical mean); returns scalars to log."""
        return {k: v for t in self.active.values() for k, v in t.after_d_step(D, real_out, fake_out).items()}

    def g_regulariser(
        self, G: nn.Module, D: nn.Module, x_real: torch.Tensor | None, x_fake: torch.Tensor
    ) -> Regulariser:
        """The terms added to G's loss, and their logged values (``x_real``: None when G's step has no real
        batch; feature matching needs one)."""
        return self._sum(t.g_regulariser(G, D, x_real, x_fake) for t in self.active.values())

    def after_g_step(self, G: nn.Module) -> None:
        for t in self.active.values():
            t.after_g_step(G)

    @staticmethod
    def _sum(terms: Iterable[Regulariser]) -> Regulariser:
        total: torch.Tensor | float = 0.0
        stats: dict[str, torch.Tensor] = {}
        for term, s in terms:  # lazily: each term is computed in turn, in registry order (RNG draws included)
            total = total + term
            stats |= s
        return total, stats

    def state_dict(self) -> dict[str, Any]:
        """One entry per active trick, keyed by its registry name."""
        return {name: t.state_dict() for name, t in self.active.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "step" in state and "k" in state:
            state = _from_old_layout(state)
        for name, t in self.active.items():
            if name in state:  # a trick without state wrote an empty entry, or none (an old checkpoint)
                t.load_state_dict(state[name])


NO_TRICKS = Tricks()
