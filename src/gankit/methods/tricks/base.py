"""The base of the tricks' registry: :class:`Trick` (every hook a no-op), :data:`TRICKS` and :func:`register_trick`.

The tricks themselves live in :mod:`.d_side` and :mod:`.g_side`; the package (:mod:`gankit.methods.tricks`) explains
the hooks, imports both in a fixed order (the registry's, hence the hooks') and holds the composite :class:`Tricks`.
"""

from __future__ import annotations

from typing import Any, Callable, cast

import torch
from torch import nn

from gankit.losses import GANLoss

Regulariser = tuple[torch.Tensor | float, dict[str, torch.Tensor]]  # (term added to a loss, stats to log)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


class Trick:
    """A trick that does nothing: every hook is a no-op. Subclasses override the hooks they need."""

    name = ""  # the registry key, set by register_trick: the trick's switch in cfg.gan where it has one

    # What D sees of a batch in G's step: the composite's Tricks.d_input (which Tricks sets on each trick).
    d_view: Callable[[torch.Tensor], torch.Tensor] = staticmethod(_identity)

    @classmethod
    def from_config(cls, cfg, loss: GANLoss, G: nn.Module, D: nn.Module, device: torch.device) -> Trick | None:
        """The trick a run config asks for, or None when it is switched off. This default reads the field of
        ``cfg.gan`` named like the trick: ``cls(value)`` when it is set (not 0, "" or None); others override it."""
        value = getattr(cfg.gan, cls.name)
        return cast(Callable[[Any], Trick], cls)(value) if value else None  # a trick with a switch takes its value

    @property
    def modules(self) -> dict[str, nn.Module]:
        return {}

    def d_input(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def d_loss_kwargs(self) -> dict[str, Any]:
        return {}

    def d_regulariser(self, D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> Regulariser:
        return 0.0, {}

    def after_d_step(self, D: nn.Module, real_out: torch.Tensor, fake_out: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def g_regulariser(
        self, G: nn.Module, D: nn.Module, x_real: torch.Tensor | None, x_fake: torch.Tensor
    ) -> Regulariser:
        return 0.0, {}

    def after_g_step(self, G: nn.Module) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


TRICKS: dict[str, type[Trick]] = {}


def register_trick(name: str) -> Callable[[type[Trick]], type[Trick]]:
    """Add the decorated :class:`Trick` subclass to :data:`TRICKS` as ``name``; hooks run in registration order."""

    def add(cls: type[Trick]) -> type[Trick]:
        cls.name = name
        TRICKS[name] = cls
        return cls

    return add
