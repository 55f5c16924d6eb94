"""``saturation``: when D wins early, log(1 - D(G(z))) gives G almost no gradient; -log D(G(z)) does.

Goodfellow et al. 2014, Sec. 3; seed lecture 004 ("log(1 - D(G(z))) will saturate. No gradients to
generator"; "Do min -log D(G(z))"). Early in training G produces junk: a freshly initialised G on the
``ring`` toy puts its samples in a small blob near the origin, far from the unit circle. Holding G fixed,
we train D with gankit's ``d_step`` and, as D(G(z)) falls towards 0, measure the norm of the gradient
reaching G's parameters under the saturating (minimax) and the non-saturating generator loss.
Per sample, d/dl of the saturating loss is -D and of the non-saturating one -(1 - D) (l: D's logit), so
their ratio grows like (1 - D)/D. ``ratio`` = non-saturating / saturating gradient norm at the end.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gankit.data import load_dataset
from gankit.data.stream import BatchStream
from gankit.lab.registry import register_experiment
from gankit.lab.common import plt, savefig
from gankit.losses import LOSSES
from gankit.methods.gan import d_step
from gankit.nets import MLPDiscriminator, MLPGenerator


def grad_norm(G, D, loss_g, z) -> float:
    """|| d J_G / d theta_G || for a generator loss of D's logits."""
    G.zero_grad(set_to_none=True)
    loss_g(D(G(z))).backward()
    total = sum(float(p.grad.square().sum()) for p in G.parameters() if p.grad is not None)
    D.zero_grad(set_to_none=True)
    return total**0.5


@register_experiment(
    "saturation", headline=("ratio", "final_d_fake"), summary="gradient reaching G: saturating vs non-saturating"
)
def run(out: Path, quick: bool = False) -> dict:
    torch.manual_seed(0)
    data = load_dataset("ring")
    G = MLPGenerator(2, (2,), hidden=128, depth=2, tanh=False)
    D = MLPDiscriminator((2,), hidden=128, depth=2)
    opt_D = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    batches = BatchStream(data, 256, seed=0)
    z_eval = torch.randn(1024, 2, generator=torch.Generator().manual_seed(1))
    steps = 60 if quick else 400
    sat, nonsat = LOSSES["minimax"].g, LOSSES["non-saturating"].g
    rows = []
    for step in range(steps + 1):
        if step % 5 == 0:
            with torch.no_grad():
                d_fake = float(torch.sigmoid(D(G(z_eval))).mean())
            rows.append(
                {
                    "d_steps": step,
                    "d_fake": d_fake,
                    "grad_saturating": grad_norm(G, D, sat, z_eval),
                    "grad_nonsaturating": grad_norm(G, D, nonsat, z_eval),
                }
            )
        if step < steps:
            x_real = next(batches)["x"]
            d_step(G, D, opt_D, LOSSES["minimax"], x_real, torch.randn(len(x_real), 2))  # G stays fixed
    last = rows[-1]
    ratio = last["grad_nonsaturating"] / last["grad_saturating"]

    pyplot = plt()
    fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(12, 4.6))
    d = np.linspace(1e-4, 1 - 1e-4, 500)
    ax1.plot(d, np.log(1 - d), color="C3", label=r"saturating: $\log(1 - D(G(z)))$ (G minimises)")
    ax1.plot(d, -np.log(d), color="C0", label=r"non-saturating: $-\log D(G(z))$ (G minimises)")
    ax1.set_xlabel("D(G(z)) (probability that D calls the sample real)")
    ax1.set_ylabel("generator loss (nats)")
    ax1.set_title("The two generator losses: flat vs steep where D(G(z)) is near 0")
    ax1.set_ylim(-5, 5)
    ax1.legend(fontsize=8)
    dx = [r["d_fake"] for r in rows]
    ax2.loglog(dx, [r["grad_saturating"] for r in rows], "o-", color="C3", ms=3, label="saturating (minimax) loss")
    ax2.loglog(dx, [r["grad_nonsaturating"] for r in rows], "o-", color="C0", ms=3, label="non-saturating loss")
    ax2.invert_xaxis()
    ax2.set_xlabel("mean D(G(z)) as D trains against a fixed, fresh G (log scale; D wins to the right)")
    ax2.set_ylabel(r"$\|\nabla_{\theta_G} J_G\|$ (log scale)")
    ax2.set_title(f"Gradient reaching G on the ring: ratio {ratio:.0f}x at D(G(z)) = {last['d_fake']:.1e}")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return {
        "ratio": ratio,
        "final_d_fake": last["d_fake"],
        "trace": rows,
        "data": "ring",
        "figures": [savefig(fig, out / "saturation.png")],
    }
