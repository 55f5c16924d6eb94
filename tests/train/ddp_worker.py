"""Run under torchrun by test_distributed.py: train a few steps with DDP and check after every
step that all ranks hold identical G and D weights. Rank 0 writes the largest difference seen."""

import json
import sys

import torch
import torch.distributed as dist

from gankit.config import load_config
from gankit.data import RunData, load_from_config
from gankit.methods import build_method
from gankit.train import distributed
from gankit.train.context import TrainContext


def flat(module):
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def main(out: str, steps: int) -> None:
    cfg = load_config(None, ["model.g_width=8", "model.d_width=8", "train.batch_size=16"])
    info, device = distributed.setup("cpu")
    torch.manual_seed(0)
    data = load_from_config(cfg.data)
    method = build_method(cfg, data.spec, device)
    ctx = TrainContext(RunData({"train": data}), device, 16, steps, 0, info.rank, info.world_size, distributed.wrapper(info, device))
    method.setup(ctx)
    batches = ctx.streams["train"]
    worst, moved = 0.0, 0.0
    before = flat(method.G).clone()
    for _ in range(steps):
        method.step()
        for module in (method.G, method.D):
            mine = flat(module)
            gathered = [torch.empty_like(mine) for _ in range(info.world_size)]
            dist.all_gather(gathered, mine)
            worst = max(worst, max((g - gathered[0]).abs().max().item() for g in gathered))
    moved = (flat(method.G) - before).abs().max().item()
    if info.is_main:
        with open(out, "w") as f:
            json.dump({"max_weight_difference": worst, "g_moved": moved, "world_size": info.world_size, "local_batch": len(next(batches)["x"])}, f)
    distributed.teardown()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
