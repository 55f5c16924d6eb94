"""Reading a run directory back: its resolved config and its trained method, ready to sample or to use.

Below the API and the evaluation workflow, which both restore runs; above the methods and checkpoints.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.config import RunConfig, load_config
from gankit.data import DataSpec, load_run_data
from gankit.errors import UserError
from gankit.methods import build_method, is_generator
from gankit.train.checkpoint import load_checkpoint
from gankit.train.rundir import RunDir


def run_config(run_dir: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """The resolved config of a run directory, with optional ``KEY=VALUE`` overrides."""
    path = RunDir(run_dir).config_file
    if not path.is_file():
        raise UserError(f"{run_dir}: not a gankit run directory (no config.yaml)")
    return load_config(path, overrides)


def load_method(run_dir: str | Path, device: str = "cpu"):
    """The trained method of a run (its newest checkpoint), rebuilt from the data spec the checkpoint keeps
    (no data is loaded); returns (method, config)."""
    cfg = run_config(run_dir)
    ckpt = load_checkpoint(run_dir)
    if "data_spec" in ckpt.state:
        spec = DataSpec.from_dict(ckpt.state["data_spec"])
    elif "data_shape" in ckpt.state:  # checkpoints written before data specs
        spec = DataSpec.from_dict({"shape": ckpt.state["data_shape"]})
    else:
        spec = load_run_data(cfg.data).spec
    method = build_method(cfg, spec, torch.device(device))
    for name, module in method.modules.items():
        module.load_state_dict(ckpt.module_state(name))
    method.load_state_dict(ckpt.state.get("method", {}))
    return method, cfg


def load_generator(run_dir: str | Path, device: str = "cpu"):
    """The trained generator of a run (the generator protocol: ``z_dim``, ``sample``, ``decode``); returns
    (method, config). A run whose method generates nothing (``dann``) is a one-line error."""
    method, cfg = load_method(run_dir, device)
    if not is_generator(method):
        raise UserError(f"{run_dir}: a {cfg.method} run has no generator to sample from")
    return method, cfg
