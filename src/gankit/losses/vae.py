"""The VAE's loss (Kingma & Welling 2014, "Auto-Encoding Variational Bayes", eq. 10): the negative
evidence lower bound, a reconstruction term plus the KL divergence of the encoder's Gaussian
q(z|x) = N(mu, diag(exp(logvar))) from the prior N(0, I):

    -ELBO = E_q[-log p(x|z)] + KL(q(z|x) || p(z)),
    KL    = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))            (closed form, per sample)

Both terms are summed over pixels / latent dimensions and averaged over the batch (nats per image).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over dimensions, averaged over the batch; 0 at mu=0, logvar=0."""
    return (-0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp())).flatten(1).sum(1).mean()


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) for pixels in [-1, 1] read as Bernoulli probabilities p = (x + 1) / 2 (the
    "cross-entropy VAE"): sum over pixels of BCE(sigmoid(logits), p), averaged over the batch."""
    p = (x + 1.0) / 2.0
    return F.binary_cross_entropy_with_logits(logits, p, reduction="none").flatten(1).sum(1).mean()


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, sigma: float) -> torch.Tensor:
    """-log N(x; mean, sigma^2 I) summed over pixels, averaged over the batch."""
    d = x[0].numel()
    sq = (x - mean).pow(2).flatten(1).sum(1)
    return (sq / (2 * sigma**2) + d * math.log(sigma * math.sqrt(2 * math.pi))).mean()


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I): a sample of q(z|x) that gradients pass through."""
    return mu + (0.5 * logvar).exp() * torch.randn_like(mu)
