"""Training throughput of gankit's loop against a plain textbook loop over the same pieces.

Both loops train the default config's networks with the same loss and optimizers on the same
in-memory data; the plain loop is written out below with no logging, sampling or checkpoints.
Trials alternate between the two (several rounds, median reported), so a busy machine slows
both alike. With ``--switches`` it also reports images/s of the default DCGAN, a 64x64 DCGAN and
the ResNet networks (when registered) with each speed switch off and on, and on a GPU the fraction
of the device's peak bf16 FLOP/s reached (FLOPs of forward and backward passes counted by
torch.utils.flop_counter). Prints JSON.

    python benchmarks/train_throughput.py [--steps 300] [--rounds 3] [--device auto] [--switches]
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
from gankit.train.speed import resolve_speed


def plain_loop(cfg, data_x: torch.Tensor, steps: int, device: torch.device) -> float:
    """The textbook loop (Goodfellow et al. 2014, Alg. 1 with k=1, non-saturating G loss). Returns images/s."""
    torch.manual_seed(cfg.train.seed)
    G, D = (m.to(device) for m in build_gan(cfg.model, tuple(data_x.shape[1:])))
    # the same memory format as gankit's loop picks for this config and device (a fair comparison)
    fmt = torch.channels_last if resolve_speed(cfg.train, device, 0).channels_last else torch.contiguous_format
    G, D = G.to(memory_format=fmt), D.to(memory_format=fmt)
    data_x = data_x.contiguous(memory_format=fmt)
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


# Dense bf16 tensor-core peaks (vendor datasheets, TFLOP/s, without sparsity).
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0, "A10": 125.0, "RTX 4090": 165.0}


def peak_tflops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)


def flops_per_step(cfg, device: torch.device) -> float:
    """FLOPs of one gankit training step (D step + G step, forward and backward), counted once."""
    from torch.utils.flop_counter import FlopCounterMode

    from gankit.data import RunData, TensorData
    from gankit.methods import build_method
    from gankit.train.context import TrainContext

    shape = (cfg.data.channels or 1, cfg.data.img_size or 28, cfg.data.img_size or 28)
    data = TensorData(x=torch.zeros(cfg.train.batch_size * 2, *shape))
    method = build_method(cfg, data.spec, device)
    method.setup(TrainContext(RunData({"train": data}), device, cfg.train.batch_size, cfg.train.steps))
    with FlopCounterMode(display=False) as counter:
        method.step()
    return float(counter.get_total_flops())


SWITCHES = {
    "baseline": ["train.amp=off", "train.channels_last=false", "train.compile=false"],
    "amp": ["train.amp=auto", "train.channels_last=false", "train.compile=false"],
    "channels_last": ["train.amp=off", "train.channels_last=true", "train.compile=false"],
    "compile": ["train.amp=off", "train.channels_last=false", "train.compile=true"],
    "all": ["train.amp=auto", "train.channels_last=auto", "train.compile=true"],
}
NETWORKS = {
    "dcgan-28": [],
    "dcgan-64": ["data.img_size=64"],
    "resnet-32": ["model.arch=resnet", "data.img_size=32"],
}


def switch_table(args, device: torch.device) -> dict:
    from gankit.nets import ARCHS

    table = {}
    for net, extra in NETWORKS.items():
        if "model.arch=resnet" in extra and "resnet" not in ARCHS:
            continue
        row = {}
        for name, switches in SWITCHES.items():
            if device.type == "cpu" and name in ("amp", "compile", "all"):
                continue  # bf16 autocast and compile do not pay off on this CPU; skip to save time
            cfg = gankit.load_config(args.config, [f"train.device={args.device}", *extra, *switches])
            ips = gankit_loop(cfg, args.steps)
            entry = {"images_per_s": round(ips, 1)}
            peak = peak_tflops(device)
            if peak:
                flops = flops_per_step(cfg, device) / cfg.train.batch_size
                entry["fraction_of_peak_bf16"] = round(ips * flops / (peak * 1e12), 4)
            row[name] = entry
        table[net] = row
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="dcgan-fashion-mnist")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--switches", action="store_true", help="also time each speed switch on several networks")
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
    report = {
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
    }
    if args.switches:
        report["switches"] = switch_table(args, device)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
