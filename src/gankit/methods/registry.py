"""The method registry and the protocols of :mod:`gankit.methods` (whose docstring describes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import torch
from torch import nn

from gankit.config import RunConfig, Section, register_method_config
from gankit.data import DataSpec


class Method(Protocol):
    """What the training loop drives: see :mod:`gankit.methods` and docs/architecture.md."""

    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    images_per_step: int

    def setup(self, ctx) -> None: ...

    def step(self) -> dict[str, torch.Tensor]: ...

    def preview(self): ...

    def evaluate(self) -> dict[str, float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class Generator(Protocol):
    """A trained model that maps latent codes to data: what sampling, inversion and evaluation use."""

    z_dim: int

    def sample(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor: ...

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor: ...


@dataclass(frozen=True)
class MethodEntry:
    build: Callable[[RunConfig, DataSpec, torch.device], Method]
    smoke: list[str] = field(default_factory=list)  # overrides for a few-second run on small offline data
    label: Callable[[RunConfig], str] | None = None  # the run directory's default name stem


METHODS: dict[str, MethodEntry] = {}


def register_method(
    name: str,
    *,
    sections: dict[str, type[Section]],
    check: Callable[[RunConfig], None] | None = None,
    smoke: list[str] | None = None,
    label: Callable[[RunConfig], str] | None = None,
):
    """Register a builder ``(cfg, spec, device) -> method`` under ``name`` with its config ``sections``."""

    def deco(builder):
        register_method_config(name, sections, check)
        METHODS[name] = MethodEntry(builder, list(smoke or []), label)
        return builder

    return deco


def build_method(cfg: RunConfig, spec: DataSpec, device: torch.device) -> Method:
    """The method ``cfg.method`` for data described by ``spec``: networks and optimizers built, not yet set up."""
    return METHODS[cfg.method].build(cfg, spec, device)


def is_generator(method: Any) -> bool:
    """Does ``method`` follow the generator protocol (``z_dim`` and ``sample``)?"""
    return hasattr(method, "z_dim") and hasattr(method, "sample")
