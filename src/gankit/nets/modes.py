"""Running a network in eval mode for a moment and giving it back as it was."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch import nn


@contextlib.contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """The body runs with ``modules`` in eval mode (batch norm's running statistics, no dropout: a sample does not
    depend on its batch); each gets its own training flag back afterwards, also when the body raises."""
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, modes):
            m.train(mode)
