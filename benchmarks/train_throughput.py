"""Training throughput of gankit's loop against a plain textbook loop over the same pieces.

Both loops train the default config's networks with the same loss and optimizers on the same
in-memory data; the plain loop is written out below with no logging, sampling or checkpoints.
Trials alternate between the two (several rounds, median reported), so a busy machine slows
both alike. Prints JSON.

    python benchmarks/train_throughput.py [--steps 300] [--rounds 3] [--device cpu] [--config dcgan-fashion-mnist]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

import gankit
from gankit.data import load_from_config
from gankit.nets import build_gan
from gankit.train.loop import resolve_device, train_run


def plain_loop(cfg, data_x: torch.Tensor, steps: int, device: torch.device) -> float:
    """The textbook loop (Goodfellow et al. 2014, Alg. 1 with k=1, non-saturating G loss). Returns images/s."""
    torch.manual_seed(cfg.train.seed)
    G, D = (m.to(device) for m in build_gan(cfg.model, tuple(data_x.shape[1:])))
    opt_G = torch.optim.Adam(G.parameters(), lr=cfg.optim.g_lr, betas=tuple(cfg.optim.betas))
    opt_D = torch.optim.Adam(D.parameters(), lr=cfg.optim.d_lr, betas=tuple(cfg.optim.betas))
    m, n = cfg.train.batch_size, len(data_x)
    perm, pos = torch.randperm(n), 0
    start = time.perf_counter()
    for _ in range(steps):
        if pos + m > n:
            perm, pos = torch.randperm(n), 0
        x = data_x[perm[pos : pos + m]].to(device)
        pos += m
        z = torch.randn(m, cfg.model.z_dim, device=device)
        with torch.no_grad():
            fake = G(z)
        d_loss = F.softplus(-D(x)).mean() + F.softplus(D(fake)).mean()
        opt_D.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_D.step()
        D.requires_grad_(False)
        g_loss = F.softplus(-D(G(torch.randn(m, cfg.model.z_dim, device=device)))).mean()
        opt_G.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_G.step()
        D.requires_grad_(True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * m / (time.perf_counter() - start)


def gankit_loop(cfg, steps: int) -> float:
    cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"steps": steps})})
    with tempfile.TemporaryDirectory() as tmp:
        return train_run(cfg, tmp, progress=False).images_per_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="dcgan-fashion-mnist")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    cfg = gankit.load_config(args.config, [f"train.device={args.device}"])
    device = resolve_device(args.device)
    data_x = load_from_config(cfg.data).x
    plain_loop(cfg, data_x, 20, device)  # warm-up (allocator, kernels)
    ours, plain = [], []
    for _ in range(args.rounds):
        ours.append(gankit_loop(cfg, args.steps))
        plain.append(plain_loop(cfg, data_x, args.steps, device))
    g, p = statistics.median(ours), statistics.median(plain)
    print(json.dumps({
        "config": args.config,
        "device": str(device),
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "batch_size": cfg.train.batch_size,
        "steps_per_trial": args.steps,
        "rounds": args.rounds,
        "gankit_images_per_s": round(g, 1),
        "plain_images_per_s": round(p, 1),
        "gankit_over_plain": round(g / p, 3),
        "within_10_percent": g >= 0.9 * p,
        "trials": {"gankit": [round(v, 1) for v in ours], "plain": [round(v, 1) for v in plain]},
    }, indent=2))


if __name__ == "__main__":
    main()
