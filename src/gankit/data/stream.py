"""Resumable shuffled minibatches over an in-memory dataset.

The permutation of epoch e is drawn from a generator seeded with (seed, e), so the position
(epoch, index) is the whole state: a resumed run continues with exactly the same batches.
With several processes each rank takes an interleaved slice of every global batch.
"""

from __future__ import annotations

import torch

from gankit.data.base import TensorData


class BatchStream:
    """Endless iterator of dict minibatches: ``x``, ``y`` (labelled data only) and the data's ``extra`` tensors.

    Args:
        data: the dataset.
        batch_size: the global batch size (over all ranks).
        seed: shuffling seed.
        rank, world_size: this process's slice of each global batch.
        device: where batches are put.
        channels_last: put image batches in NHWC memory format.
    """

    def __init__(
        self,
        data: TensorData,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        device: str | torch.device = "cpu",
        channels_last: bool = False,
    ):
        if batch_size > len(data):
            raise ValueError(f"batch size {batch_size} exceeds the dataset's {len(data)} items")
        self.data, self.batch_size, self.seed = data, batch_size, seed
        self.rank, self.world_size, self.device = rank, world_size, torch.device(device)
        self.memory_format = torch.channels_last if channels_last and data.x.ndim == 4 else torch.contiguous_format
        self.epoch, self.index = 0, 0
        self._perm = self._permutation(0)

    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        return torch.randperm(len(self.data), generator=g)

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        # Drop the last incomplete batch of each epoch: every step sees a full batch.
        if self.index + self.batch_size > len(self.data):
            self.epoch, self.index = self.epoch + 1, 0
            self._perm = self._permutation(self.epoch)
        idx = self._perm[self.index : self.index + self.batch_size][self.rank :: self.world_size]
        self.index += self.batch_size
        # non_blocking: the copy overlaps GPU work when the data is in (pinned) host memory
        x = self.data.x[idx.to(self.data.x.device)].to(self.device, memory_format=self.memory_format, non_blocking=True)
        batch = {"x": x}
        if self.data.y is not None:
            batch["y"] = self.data.y[idx].to(self.device, non_blocking=True)
        for key, t in self.data.extra.items():
            batch[key] = t[idx.to(t.device)].to(self.device, non_blocking=True)
        return batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "index": self.index}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.index = int(state["epoch"]), int(state["index"])
        self._perm = self._permutation(self.epoch)
