"""Several processes through ``torchrun`` and DistributedDataParallel; one process needs none of it.

``torchrun --nproc_per_node=N -m gankit train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK; the process
group uses NCCL when each process has a GPU and gloo on the CPU. Only rank 0 writes the run
directory; every rank reads it on resume.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gankit.errors import UserError


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device_name: str) -> tuple[Dist, torch.device]:
    """Join the process group that torchrun describes (if any) and pick this process's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    info = Dist(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))
    wants_cuda = device_name.startswith("cuda") or (device_name == "auto" and torch.cuda.is_available())
    if wants_cuda and not torch.cuda.is_available():
        raise UserError(f"train.device={device_name}: no CUDA device is available")
    if wants_cuda:
        index = int(device_name.split(":")[1]) if ":" in device_name else info.local_rank
        device = torch.device("cuda", index)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu" if device_name == "auto" else device_name)
    if info.enabled and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        # Torn down when the process exits, not after each run: under one torchrun rendezvous a destroyed group
        # cannot be set up again (the second init hangs), and a script may train several runs in a row.
        atexit.register(teardown)
    return info, device


def teardown() -> None:
    """Leave the process group (at exit; also safe to call when there is none)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def wrapper(info: Dist, device: torch.device, sync_batchnorm: bool = False):
    """A function that wraps a module for training: DDP when distributed, the module itself otherwise."""

    def wrap(module: nn.Module) -> nn.Module:
        if not info.enabled:
            return module
        if sync_batchnorm:
            module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids, broadcast_buffers=False)

    return wrap


def mean_over_ranks(values: dict[str, float], info: Dist, device: torch.device) -> dict[str, float]:
    """Average scalars over processes (each process logs its own shard's means)."""
    if not info.enabled or not values:
        return values
    t = torch.tensor(list(values.values()), dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return dict(zip(values, (t / info.world_size).tolist()))


def any_rank(flag: bool, info: Dist, device: torch.device) -> bool:
    """True on every rank when it is true on any (so all ranks stop at the same step)."""
    if not info.enabled:
        return flag
    t = torch.tensor([float(flag)], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def barrier(info: Dist) -> None:
    if info.enabled:
        dist.barrier()
