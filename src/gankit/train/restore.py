"""Reading a run directory back: its resolved config and its trained method, ready to sample.

Below the API and the evaluation workflow, which both restore runs; above the methods and checkpoints.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.config import RunConfig, load_config
from gankit.errors import UserError
from gankit.train.checkpoint import load_checkpoint
from gankit.train.rundir import RunDir


def run_config(run_dir: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """The resolved config of a run directory, with optional ``KEY=VALUE`` overrides."""
    path = RunDir(run_dir).config_file
    if not path.is_file():
        raise UserError(f"{run_dir}: not a gankit run directory (no config.yaml)")
    return load_config(path, overrides)


def load_generator(run_dir: str | Path, device: str = "cpu"):
    """The trained method of a run (its newest checkpoint), ready to ``sample``; returns (method, config)."""
    from gankit.methods import build_method

    cfg = run_config(run_dir)
    ckpt = load_checkpoint(run_dir)
    shape = tuple(ckpt.state["data_shape"]) if "data_shape" in ckpt.state else _data_shape(cfg)
    method = build_method(cfg, shape, torch.device(device))
    for name, module in method.modules.items():
        module.load_state_dict(ckpt.module_state(name))
    method.load_extra_state(ckpt.state.get("method", {}))
    return method, cfg


def _data_shape(cfg: RunConfig) -> tuple[int, ...]:
    from gankit.data import load_from_config

    return load_from_config(cfg.data).shape
