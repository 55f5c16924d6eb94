"""The training context: what the loop hands a method in ``setup(ctx)``.

It holds the run's data, this process's place (device, rank, world size), the wrapper that makes a
module train under DistributedDataParallel, the speed settings, and the batch streams a method takes.
Streams are made here (:meth:`TrainContext.stream`) so that the loop can checkpoint every stream's
position without knowing which ones a method uses.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
import torch.distributed as torch_dist
from torch import nn

from gankit.data import RunData, TensorData
from gankit.data.stream import BatchStream
from gankit.errors import UserError


def _identity(module: nn.Module) -> nn.Module:
    return module


@dataclass
class TrainContext:
    """Everything a method needs to train in this process (see the module docstring).

    Args:
        data: the run's data parts (``ctx.data.part("train")``).
        device: this process's device.
        batch_size: the global batch size ``train.batch_size`` (over all processes).
        total_steps: the run's steps ``train.steps`` (the clock of schedules).
        seed: ``train.seed``: streams shuffle with it unless given their own.
        rank, world_size: this process among ``world_size`` (1 without torchrun).
        wrap: module -> the module to train through (DDP when distributed, the module itself otherwise).
        compile, fp16, channels_last, data_on_device: speed settings (:mod:`gankit.train.speed`).
    """

    data: RunData
    device: torch.device
    batch_size: int
    total_steps: int
    seed: int = 0
    rank: int = 0
    world_size: int = 1
    wrap: Callable[[nn.Module], nn.Module] = _identity
    compile: bool = False
    fp16: bool = False
    channels_last: bool = False
    data_on_device: bool = False
    streams: dict[str, BatchStream] = field(default_factory=dict)

    @classmethod
    def for_data(
        cls, data: TensorData, batch_size: int, steps: int = 1, seed: int = 0, device: str | torch.device = "cpu"
    ) -> TrainContext:
        """A one-process context over one dataset (the ``train`` part): for experiments that drive ``step()``
        themselves."""
        return cls(RunData({"train": data}), torch.device(device), batch_size, steps, seed)

    def add_part(self, name: str, data: TensorData) -> None:
        """Add a data part that a method carves from the loaded ones (the semi-supervised GAN's labelled subset),
        so that :meth:`stream` can take it. The caller's :class:`RunData` is left as it was."""
        if name in self.data.parts:
            raise ValueError(f"a data part named '{name}' exists already")
        self.data = RunData({**self.data.parts, name: data}, self.data.main)

    def stream(
        self, part: str = "train", batch_size: int | None = None, *, seed: int | None = None, name: str | None = None
    ) -> BatchStream:
        """An endless, resumable stream of dict batches over a data part, this process's slice of each.

        Args:
            part: the data part (``train``; ``source``, ``target`` of a domain pair).
            batch_size: the global batch of this stream (default ``train.batch_size``).
            seed: its shuffling seed (default ``train.seed``).
            name: its key in checkpoints (default: the part's name); two streams over a part need two names.
        """
        data = self.data.part(part)
        batch_size = batch_size or self.batch_size
        name = name or part
        if name in self.streams:
            raise ValueError(f"a stream named '{name}' exists already; give the second one its own name")
        if batch_size > len(data):
            raise UserError(
                f"train.batch_size: a batch of {batch_size} exceeds the {len(data)} items of {data.name or part}"
            )
        if batch_size % self.world_size:
            raise UserError(
                f"train.batch_size: a batch of {batch_size} is not divisible by the {self.world_size} processes"
            )
        if self.data_on_device:  # a copy: the caller's data stays where it was
            data = dataclasses.replace(data, x=data.x.to(self.device))
        self.streams[name] = BatchStream(
            data,
            batch_size,
            seed=self.seed if seed is None else seed,
            rank=self.rank,
            world_size=self.world_size,
            device=self.device,
            channels_last=self.channels_last,
        )
        return self.streams[name]

    def module_weights(self, run_dir: str, name: str, key: str = "") -> dict[str, torch.Tensor]:
        """The weights of module ``name`` in the newest checkpoint of another run (a method that starts from a
        trained network: SRGAN from SRResNet). ``key`` names the config key for the one-line error."""
        from gankit.train.checkpoint import load_checkpoint

        try:
            ckpt = load_checkpoint(run_dir)
        except UserError as e:
            raise UserError(f"{key}: {e}" if key else str(e)) from None
        if not any(k.startswith(name + ".") for k in ckpt.weights):
            raise UserError(f"{key or run_dir}: the run {run_dir} has no module '{name}'")
        return ckpt.module_state(name)

    def average_gradients(self, parameters: Iterable[nn.Parameter]) -> None:
        """Average the gradients of ``parameters`` over processes (for methods that do not train through DDP)."""
        if self.world_size == 1:
            return
        for p in parameters:
            if p.grad is not None:
                torch_dist.all_reduce(p.grad)
                p.grad /= self.world_size
