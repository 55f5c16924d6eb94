"""Checkpoints that load without unpickling anything.

A checkpoint is a folder ``checkpoints/step_NNNNNNNN/`` holding
``weights.safetensors`` (every module's state dict, keys prefixed by the module's name),
``state.safetensors`` (the tensors of optimizer and RNG states) and ``state.json`` (everything
else: step, optimizer hyper-parameters, data position, logging window, config), where tensors
appear as ``{"__tensor__": key}`` references into ``state.safetensors``.

Writing is atomic: the folder is written under a temporary name and renamed into place, then
the ``latest`` pointer is replaced; an interrupted write leaves the previous checkpoint intact.
``checksums.json`` holds the SHA-256 of the other three files, so that a checkpoint damaged later (a full
disk, a bad copy) is recognised before it is used: loading a run falls back to the newest checkpoint that
verifies, with a one-line warning naming each one skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from gankit.errors import UserError

WEIGHTS, TENSORS, STATE = "weights.safetensors", "state.safetensors", "state.json"
CHECKSUMS = "checksums.json"


# ----------------------------------------------------------------------------- tree <-> JSON + tensors


def _encode(obj: Any, tensors: dict[str, torch.Tensor], path: str) -> Any:
    if isinstance(obj, torch.Tensor):
        # clone: safetensors refuses tensors that share storage (e.g. RNG states, views)
        tensors[path] = obj.detach().cpu().contiguous().clone()
        return {"__tensor__": path}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: _encode(v, tensors, f"{path}.{k}") for k, v in obj.items()}
        # optimizer states are keyed by parameter index (int): keep the keys' types
        return {"__items__": [[k, _encode(v, tensors, f"{path}.{k}")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [_encode(v, tensors, f"{path}.{i}") for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot checkpoint a {type(obj).__name__} at '{path}'")


def _decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"__tensor__"}:
            return tensors[obj["__tensor__"]]
        if set(obj) == {"__items__"}:
            return {k: _decode(v, tensors) for k, v in obj["__items__"]}
        return {k: _decode(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    return obj


# ----------------------------------------------------------------------------- save / load


@dataclass
class Checkpoint:
    path: Path
    step: int
    weights: dict[str, torch.Tensor]  # "G.net.0.weight" -> tensor
    state: dict[str, Any]

    def module_state(self, name: str) -> dict[str, torch.Tensor]:
        prefix = name + "."
        return {k[len(prefix) :]: v for k, v in self.weights.items() if k.startswith(prefix)}


def save_checkpoint(
    folder: str | Path, step: int, modules: dict[str, nn.Module], state: dict[str, Any], keep: int = 2
) -> Path:
    """Write a checkpoint of ``modules`` and ``state`` for ``step`` under ``folder``; keep the newest ``keep``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step_{step:08d}"
    tmp = folder / f".tmp_step_{step:08d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    weights = {
        f"{name}.{k}": v.detach().cpu().contiguous().clone()
        for name, m in modules.items()
        for k, v in m.state_dict().items()
    }
    save_file(weights, tmp / WEIGHTS)
    tensors: dict[str, torch.Tensor] = {}
    tree = _encode({"step": step, **state}, tensors, "state")
    save_file(tensors, tmp / TENSORS)
    (tmp / STATE).write_text(json.dumps(tree))
    (tmp / CHECKSUMS).write_text(json.dumps({name: _sha256(tmp / name) for name in (WEIGHTS, TENSORS, STATE)}))
    _fsync_dir(tmp)
    if final.exists():  # re-saving the same step (e.g. at the end after a periodic save)
        shutil.rmtree(final)
    os.rename(tmp, final)
    pointer = folder / ".latest.tmp"
    pointer.write_text(final.name)
    os.replace(pointer, folder / "latest")
    for old in sorted(folder.glob("step_*"))[:-keep]:
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def _fsync_dir(path: Path) -> None:
    for f in path.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _candidates(run_dir: Path) -> list[Path]:
    """A run's checkpoint folders, newest first (the ``latest`` pointer's first when it names one)."""
    folder = run_dir / "checkpoints"
    found = sorted((p for p in folder.glob("step_*") if p.is_dir()), reverse=True) if folder.is_dir() else []
    latest = folder / "latest"
    if latest.is_file() and (named := folder / latest.read_text().strip()) in found:
        found.remove(named)
        found.insert(0, named)
    return found


def find_checkpoint(run_dir: str | Path) -> Path:
    """The newest checkpoint of a run directory that verifies (or a checkpoint folder itself)."""
    return load_checkpoint(run_dir).path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load a checkpoint folder, or a run's newest checkpoint that verifies. Never unpickles: safetensors and
    JSON only.

    A damaged newest checkpoint (a file missing, truncated or altered) is skipped with a one-line warning on
    stderr naming it, and the next newest is used; the error names every one only when none verifies.
    """
    path = Path(path)
    if (path / STATE).is_file() or (path / WEIGHTS).is_file():  # a checkpoint folder named directly: no fallback
        return _load(path)
    candidates = _candidates(path)
    if not candidates:
        raise UserError(f"{path}: no checkpoint found (expected {path / 'checkpoints'}/step_*/)")
    damaged = []
    for candidate in candidates:
        try:
            ckpt = _load(candidate)
        except UserError as e:
            damaged.append(str(e))
            continue
        for reason in damaged:
            print(f"warning: skipping damaged checkpoint {reason}; using {ckpt.path.name}", file=sys.stderr)
        return ckpt
    raise UserError(f"{path}: none of its {len(candidates)} checkpoints verifies (newest: {damaged[0]})")


def _load(path: Path) -> Checkpoint:
    """One checkpoint folder, verified against its checksums (when it has them: older ones do not) and read
    in full; a UserError names the folder and what is wrong."""
    try:
        sums = json.loads((path / CHECKSUMS).read_text()) if (path / CHECKSUMS).is_file() else {}
        for name, expected in sums.items():
            if _sha256(path / name) != expected:
                raise ValueError(f"{name} does not match its checksum")
        weights = load_file(path / WEIGHTS)
        tensors = load_file(path / TENSORS)
        tree = json.loads((path / STATE).read_text())
        state = _decode(tree, tensors)
    except (SafetensorError, json.JSONDecodeError, UnicodeDecodeError, OSError, KeyError, ValueError) as e:
        raise UserError(f"{path}: not a valid gankit checkpoint ({type(e).__name__}: {str(e)[:80]})") from None
    if not isinstance(state, dict) or not isinstance(state.get("step"), int):
        raise UserError(f"{path}: not a valid gankit checkpoint (no step)")
    return Checkpoint(path=path, step=state.pop("step"), weights=weights, state=state)
