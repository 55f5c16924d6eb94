"""``optimal-d``: a discriminator trained to convergence against a fixed generator is D* = p_data / (p_data + p_g).

Goodfellow et al. 2014, Proposition 1; seed lectures 003 ("Optimal D(x) for any p_data and p_model") and
004 ("What q minimizes this?"). Data: the 1-D toy ``mog-1d``; generator: G(z) = 0.5 + 1.5 z, so
p_g = N(0.5, 1.5^2). D: an MLP trained with gankit's ``d_step``. ``max_gap`` is max |D(x) - D*(x)| over the
data's support, taken as the x where p_data(x) >= 1e-3 (99.9+% of its mass).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit.data.toy import get_toy
from gankit.lab.registry import register_experiment
from gankit.lab.common import GaussianGenerator, d_on_grid, plt, savefig, train_optimal_d

SUPPORT_DENSITY = 1e-3


@register_experiment("optimal-d", headline=("max_gap",), summary="D trained to convergence vs p_data/(p_data+p_g)")
def run(out: Path, quick: bool = False) -> dict:
    toy = get_toy("mog-1d")
    G = GaussianGenerator(0.5, 1.5)
    # quick: enough steps that the test can bound the gap (mean 0.03, max 0.4 on the support; 3 s)
    D = train_optimal_d(toy, G, steps=600 if quick else 3000, batch=512 if quick else 2048)
    xs = np.linspace(-6, 8, 1401)
    p_data = toy.density(xs).numpy()
    p_g = G.density(xs).numpy()
    d_star = p_data / (p_data + p_g)
    d_hat = d_on_grid(D, xs)
    support = p_data >= SUPPORT_DENSITY
    gap = np.abs(d_hat - d_star)
    max_gap = float(gap[support].max())

    pyplot = plt()
    fig, (ax1, ax2) = pyplot.subplots(2, 1, figsize=(7, 6.5), sharex=True)
    ax1.plot(xs, p_data, label=r"$p_{data}$ (mog-1d)", color="C0")
    ax1.plot(xs, p_g, label=r"$p_g = \mathcal{N}(0.5,\ 1.5^2)$", color="C3")
    ax1.set_ylabel("density (1 / unit of x)")
    ax1.set_title("Optimal discriminator: densities of data and generator")
    ax1.legend()
    ax2.plot(xs, d_star, "k--", lw=2, label=r"$D^*(x) = p_{data} / (p_{data} + p_g)$")
    ax2.plot(xs, d_hat, color="C2", lw=1.5, label="trained D(x)")
    lo, hi = xs[support].min(), xs[support].max()
    ax2.axvspan(lo, hi, color="0.9", zorder=0, label=r"data support ($p_{data} \geq 10^{-3}$)")
    ax2.set_xlabel("x (data units)")
    ax2.set_ylabel("D(x) = P(real | x)")
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_title(f"Trained D against the closed form: max gap on the support = {max_gap:.4f}")
    ax2.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig_name = savefig(fig, out / "optimal_d.png")
    return {
        "max_gap": max_gap,
        "mean_gap": float(gap[support].mean()),
        "support": [float(lo), float(hi)],
        "generator": {"mu": 0.5, "sigma": 1.5},
        "data": "mog-1d",
        "figures": [fig_name],
    }
