"""The registry of lab experiments (:mod:`gankit.lab` describes them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Experiment:
    run: Callable[..., dict]
    headline: tuple[str, ...]  # result keys printed by the CLI
    summary: str


EXPERIMENTS: dict[str, Experiment] = {}


def register_experiment(name: str, headline: tuple[str, ...] = (), summary: str = ""):
    def deco(fn):
        EXPERIMENTS[name] = Experiment(fn, tuple(headline), summary)
        return fn

    return deco
