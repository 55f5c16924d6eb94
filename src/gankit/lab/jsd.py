"""``jsd``: with D at its optimum, the game's value is V(D*, G) = -log 4 + 2 JSD(p_data || p_g).

Goodfellow et al. 2014, Theorem 1; seed lecture 004 ("Called the Jensen-Shannon divergence"). For a family
of generators p_g = N(mu, 1.5^2), mu from -1 to 2.5, against the 1-D toy ``mog-1d``: train D near its
optimum (as in ``optimal-d``), compute V(D, G) = int p_data log D + p_g log(1 - D) dx and the JSD by
quadrature (trapezoid rule on a fine grid). ``relative_error`` = max over the family of
|V(D, G) - (-log 4 + 2 JSD)| / |-log 4 + 2 JSD|.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gankit.data.toy import get_toy
from gankit.lab.registry import register_experiment
from gankit.lab.common import GaussianGenerator, d_on_grid, plt, savefig, train_optimal_d

MUS = (-1.0, 0.0, 0.5, 1.0, 1.75, 2.5)
SIGMA = 1.5


def jsd_quadrature(p: np.ndarray, q: np.ndarray, xs: np.ndarray) -> float:
    """JSD(p || q) = KL(p || m)/2 + KL(q || m)/2, m = (p + q)/2, by the trapezoid rule (nats)."""
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = 0.5 * np.where(p > 0, p * np.log(p / m), 0.0) + 0.5 * np.where(q > 0, q * np.log(q / m), 0.0)
    return float(np.trapezoid(f, xs))


@register_experiment("jsd", headline=("relative_error",), summary="V(D*, G) vs -log 4 + 2 JSD by quadrature")
def run(out: Path, quick: bool = False) -> dict:
    toy = get_toy("mog-1d")
    xs = np.linspace(-12, 14, 5201)
    p_data = toy.density(xs).numpy()
    rows = []
    for i, mu in enumerate(MUS[:2] if quick else MUS):
        G = GaussianGenerator(mu, SIGMA)
        p_g = G.density(xs).numpy()
        D = train_optimal_d(toy, G, steps=60 if quick else 2500, batch=256 if quick else 2048, seed=i)
        d = np.clip(d_on_grid(D, xs), 1e-12, 1 - 1e-12)
        value = float(np.trapezoid(p_data * np.log(d) + p_g * np.log(1 - d), xs))
        jsd = jsd_quadrature(p_data, p_g, xs)
        target = -math.log(4) + 2 * jsd
        rows.append(
            {
                "mu": mu,
                "sigma": SIGMA,
                "value": value,
                "jsd": jsd,
                "target": target,
                "relative_error": abs(value - target) / abs(target),
            }
        )
    rel = max(r["relative_error"] for r in rows)

    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(7, 4.5))
    mus = [r["mu"] for r in rows]
    ax.plot(
        mus, [r["target"] for r in rows], "k--o", label=r"$-\log 4 + 2\,\mathrm{JSD}(p_{data} \| p_g)$ (quadrature)"
    )
    ax.plot(
        mus, [r["value"] for r in rows], "C2s", ms=8, mfc="none", mew=2, label=r"$V(D, G)$ with trained D (quadrature)"
    )
    ax.axhline(-math.log(4), color="0.6", lw=1, label=r"$-\log 4$ (the global minimum, $p_g = p_{data}$)")
    ax.set_xlabel(r"generator mean $\mu$ of $p_g = \mathcal{N}(\mu, 1.5^2)$ (data units)")
    ax.set_ylabel("value of the game (nats)")
    ax.set_title(f"Value at the optimal D is -log 4 + 2 JSD (max relative error {rel:.4f})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return {"relative_error": rel, "generators": rows, "data": "mog-1d", "figures": [savefig(fig, out / "jsd.png")]}
