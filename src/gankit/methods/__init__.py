"""Methods: what differs between GAN, VAE, ... Each brings its networks, optimizers and step function.

A method is an object with
    ``modules``     dict of the ``nn.Module``s to checkpoint (``G``, ``D``, ...),
    ``optimizers``  dict of their optimizers,
    ``step(batches) -> dict``  one training iteration, drawing minibatches from ``batches``;
                    returns the scalars to log (0-dim tensors, not synced per step),
    ``sample(z)``   images from latent codes (no gradients), ``z_dim``,
    ``decode(z)``   the same images, differentiable in ``z`` (inversion and inpainting), and
    ``extra_state()`` / ``load_extra_state(d)`` for anything else to checkpoint.
The training loop (:mod:`gankit.train.loop`) knows nothing more than this.

Adding a method: a builder ``(cfg, data_shape, device) -> method`` decorated with ``@register_method``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Protocol

import torch
from torch import nn


class Method(Protocol):
    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    z_dim: int

    def step(self, batches: Iterator) -> dict[str, torch.Tensor]: ...

    def sample(self, z: torch.Tensor) -> torch.Tensor: ...

    def decode(self, z: torch.Tensor) -> torch.Tensor: ...

    def extra_state(self) -> dict[str, Any]: ...

    def load_extra_state(self, state: dict[str, Any]) -> None: ...


METHODS: dict[str, Callable[..., Method]] = {}


def register_method(name: str):
    def deco(builder):
        METHODS[name] = builder
        return builder

    return deco


def build_method(cfg, data_shape: tuple[int, ...], device: torch.device) -> Method:
    from gankit.methods import gan, vae  # noqa: F401  (fill the registry)

    return METHODS[cfg.method](cfg, data_shape, device)
