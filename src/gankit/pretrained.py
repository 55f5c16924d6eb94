"""Sharing a trained run: a folder in the conventions of ``huggingface_hub``'s ``ModelHubMixin`` (a
``config.json`` beside a ``model.safetensors``, at the top of a folder or of a Hub repository), and loading it
back with :func:`from_pretrained`.

The folder that :func:`save_pretrained` writes::

    config.json        {"library": "gankit", "gankit_version", "format": 1, "step", "config": the run's resolved
                       config, "data_spec": what the networks were built for, "state": the method's own state
                       (JSON, with {"__tensor__": key} references into model.safetensors)}
    model.safetensors  every module's weights, keys prefixed by the module's name (as in a checkpoint), and the
                       method state's tensors under "state."; metadata {"format": "pt"}
    README.md          a model card: what the run is and how to load it

It is what ``huggingface_hub.upload_folder(repo_id=..., folder_path=...)`` pushes and ``snapshot_download``
pulls; :func:`from_pretrained` takes the folder, or a repository id (``owner/name``) that it downloads with
``snapshot_download`` when the argument is not a local path. Only safetensors and JSON are read: nothing is
unpickled.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from gankit.config import RunConfig, validate
from gankit.data import DataSpec
from gankit.errors import UserError
from gankit.methods import build_method, is_generator
from gankit.train.checkpoint import _decode, _encode, load_checkpoint
from gankit.train.restore import run_config

CONFIG, WEIGHTS, CARD = "config.json", "model.safetensors", "README.md"
FORMAT = 1


def save_pretrained(run_dir: str | Path, folder: str | Path) -> Path:
    """Write the newest checkpoint that verifies of ``run_dir`` to ``folder`` as ``config.json`` +
    ``model.safetensors`` + ``README.md`` (see the module docstring); returns the folder.

    Args:
        run_dir: a run directory (any method; :func:`from_pretrained` of a method without a generator is an error).
        folder: where to write (created; files of the same names are replaced).
    """
    from gankit import __version__

    cfg = run_config(run_dir)
    ckpt = load_checkpoint(run_dir)
    if "data_spec" in ckpt.state:
        spec = ckpt.state["data_spec"]
    elif "data_shape" in ckpt.state:  # checkpoints written before data specs
        spec = {"shape": ckpt.state["data_shape"]}
    else:
        raise UserError(f"{ckpt.path}: the checkpoint keeps no data spec; train it again with this gankit")
    tensors: dict[str, torch.Tensor] = {}
    state = _encode(ckpt.state.get("method", {}), tensors, "state")
    tensors |= {k: v.contiguous().clone() for k, v in ckpt.weights.items()}
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / WEIGHTS), metadata={"format": "pt"})
    config = {
        "library": "gankit",
        "gankit_version": __version__,
        "format": FORMAT,
        "step": ckpt.step,
        "config": cfg.model_dump(mode="json"),
        "data_spec": spec,
        "state": state,
    }
    (out / CONFIG).write_text(json.dumps(config, indent=2))
    (out / CARD).write_text(_card(cfg, ckpt.step))
    return out


def from_pretrained(path_or_repo: str | Path, device: str = "cpu", *, revision: str | None = None):
    """The trained method of a folder written by :func:`save_pretrained` (or a Hugging Face Hub repository of
    one); returns (method, config), as :func:`gankit.load_generator` does for a run directory.

    Args:
        path_or_repo: a local folder, or a repository id ``owner/name`` (downloaded with
            ``huggingface_hub.snapshot_download`` when no such local path exists).
        device: where the networks go (``cpu``, ``cuda``, ``cuda:N``).
        revision: the Hub revision (branch, tag or commit) of a repository id.

    Raises:
        UserError: the folder is not a gankit pretrained folder, its method generates nothing, or a repository
            cannot be downloaded (offline, ``huggingface_hub`` missing, unknown repository).
    """
    folder = _local_or_download(path_or_repo, revision)
    try:
        meta = json.loads((folder / CONFIG).read_text())
        tensors = load_file(folder / WEIGHTS)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, SafetensorError) as e:
        raise UserError(f"{folder}: not a gankit pretrained folder ({type(e).__name__}: {str(e)[:80]})") from None
    if not isinstance(meta, dict) or meta.get("library") != "gankit" or "config" not in meta:
        raise UserError(f"{folder / CONFIG}: not a gankit config.json (no 'library': 'gankit' and 'config')")
    if meta.get("format", 0) > FORMAT:
        raise UserError(f"{folder / CONFIG}: format {meta['format']} is newer than this gankit reads ({FORMAT})")
    cfg: RunConfig = validate(meta["config"], where=str(folder / CONFIG))
    spec = DataSpec.from_dict(meta["data_spec"])
    method = build_method(cfg, spec, torch.device(device))
    if not is_generator(method):
        raise UserError(f"{folder}: a {cfg.method} run has no generator to sample from")
    for name, module in method.modules.items():
        prefix = f"{name}."
        module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
    method.load_state_dict(_decode(meta.get("state", {}), tensors))
    return method, cfg


def _local_or_download(path_or_repo: str | Path, revision: str | None) -> Path:
    """The local folder, or the Hub repository's snapshot (a one-line UserError when it cannot be had)."""
    path = Path(path_or_repo)
    if path.exists():
        return path
    repo = str(path_or_repo)
    if repo.count("/") != 1 or repo.startswith((".", "/", "~")):
        raise UserError(f"{repo}: no such folder (and not a Hugging Face Hub repository id 'owner/name')")
    if os.environ.get("GANKIT_OFFLINE") == "1" or os.environ.get("HF_HUB_OFFLINE") == "1":
        raise UserError(f"{repo}: no such folder, and downloading from the Hugging Face Hub is off (offline)")
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise UserError(f"{repo}: no such folder; a Hub repository needs `pip install huggingface_hub`") from None
    try:
        return Path(snapshot_download(repo, revision=revision, allow_patterns=[CONFIG, WEIGHTS, CARD]))
    except Exception as e:  # network, authentication, unknown repository: one line, whatever the cause
        raise UserError(f"{repo}: no such folder, and the Hub download failed ({type(e).__name__})") from None


def _card(cfg: RunConfig, step: int) -> str:
    return (
        "---\nlibrary_name: gankit\ntags: [gankit, gan]\n---\n\n"
        f"# gankit {cfg.method} run ({cfg.data.name}, step {step})\n\n"
        "```python\nimport torch\nimport gankit\n\n"
        'method, cfg = gankit.from_pretrained("OWNER/NAME")  # or a local folder\n'
        "z = torch.randn(16, method.z_dim)\nx = method.sample(z)\n```\n\n"
        "`config.json` holds the run's resolved config; `model.safetensors` the weights.\n"
    )
