"""Exact and bounded log-likelihoods of the explicit models, in one set of units: nats per image (the negative
log-likelihood summed over an image's D pixels) and bits per dimension (nats / (D ln 2)).

    Bernoulli pixels  -log p(x) = sum_i softplus(l_i) - x_i l_i               (x_i in {0, 1}; at l = 0: D ln 2)
    8-bit pixels      -log p(x) = sum_i -log softmax(l_i)[x_i]               (x_i in {0 .. 255}; at l = 0: D ln 256)
    ELBO              log p(x) >= E_q[log p(x|z) + log p(z) - log q(z|x)]    (Kingma & Welling 2014)
    IWAE (k samples)  log p(x) >= E[log 1/k sum_j w_j],  w_j = p(x, z_j) / q(z_j|x)   (Burda et al. 2016, eq. 8)

The IWAE bound is at least the ELBO for every k and tends to log p(x) as k grows; at k = 1 it is the ELBO's
one-sample estimate. All functions are pure: tensors in, tensors out.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def bernoulli_nll_per_image(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x) of binary images under independent Bernoulli logits, one value per image (nats).

    Args:
        logits: N x ... logits of p(x_i = 1).
        x: N x ... in {0, 1} (same shape).
    Returns:
        N-vector; D ln 2 per image at logits = 0.
    """
    return F.binary_cross_entropy_with_logits(logits, x.to(logits.dtype), reduction="none").flatten(1).sum(1)


def categorical_nll_per_image(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x) of discrete images under a softmax per pixel, one value per image (nats).

    Args:
        logits: N x K x ... (K levels, e.g. 256 for 8-bit pixels).
        x: N x ... integer levels in {0 .. K-1}.
    Returns:
        N-vector; D ln K per image at logits = 0.
    """
    return F.cross_entropy(logits, x.long(), reduction="none").flatten(1).sum(1)


def bits_per_dim(nll_nats: torch.Tensor | float, dims: int) -> torch.Tensor | float:
    """Nats per image -> bits per dimension: nll / (D ln 2)."""
    return nll_nats / (dims * math.log(2))


def log_normal(z: torch.Tensor, mu: torch.Tensor | float = 0.0, logvar: torch.Tensor | float = 0.0) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) summed over the last dimension."""
    logvar = torch.as_tensor(logvar, dtype=z.dtype)
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) / logvar.exp()).sum(-1)


def iwae_from_log_weights(log_w: torch.Tensor) -> torch.Tensor:
    """The importance-weighted bound per item from log weights k x N: logsumexp_j(log w_j) - log k."""
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


def vae_bounds(
    encoder, decoder, x: torch.Tensor, k: int, chunk: int = 500, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ELBO and the k-sample IWAE bound of a Bernoulli VAE per image (nats; both <= log p(x)).

    The ELBO uses the closed-form KL and the mean of log p(x|z_j) over the same k samples that the IWAE bound
    weighs, so both come from one pass; the k samples go through the decoder ``chunk`` at a time (memory:
    chunk x N images), and the bound is a logsumexp over all of them (Burda et al. 2016, eq. 8).

    Args:
        encoder: x -> (mu, logvar) of q(z|x) (in eval mode).
        decoder: z -> Bernoulli logits of p(x|z) (in eval mode).
        x: N x C x H x W binary images in {-1, 1} (gankit's range; the pixel is (x + 1) / 2).
        k: importance samples per image (5000 in Burda et al. 2016).
    Returns:
        (elbo, iwae): two N-vectors of log-likelihood bounds in nats.
    """
    log_w, log_px = vae_log_weights(encoder, decoder, x, k, chunk, generator)
    mu, logvar = encoder(x)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)  # KL(q(z|x) || N(0, I)), closed form
    return log_px.mean(0) - kl, iwae_from_log_weights(log_w)


def vae_log_weights(
    encoder, decoder, x: torch.Tensor, k: int, chunk: int = 500, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log importance weights log w_j = log p(x|z_j) + log p(z_j) - log q(z_j|x), z_j ~ q(z|x), and the
    log p(x|z_j) they contain: two k x N tensors (see :func:`vae_bounds` for the arguments)."""
    target = (x + 1) / 2
    mu, logvar = encoder(x)  # [N, z]
    std = (0.5 * logvar).exp()
    log_w, log_px = [], []
    for start in range(0, k, chunk):
        n = min(chunk, k - start)
        z = mu + std * torch.randn(n, *mu.shape, generator=generator, device=mu.device)  # [n, N, z]
        logits = decoder(z.flatten(0, 1)).view(n, *x.shape)
        lp = -bernoulli_nll_per_image(logits.flatten(0, 1), target.repeat(n, 1, 1, 1)).view(n, -1)
        log_px.append(lp)
        log_w.append(lp + log_normal(z) - log_normal(z, mu, logvar))
    return torch.cat(log_w), torch.cat(log_px)


def gmm_log_density(weights: torch.Tensor, means: torch.Tensor, covariances: torch.Tensor, x: torch.Tensor):
    """log p(x) = log sum_k pi_k N(x; mu_k, Sigma_k) per row of x (N x d), full covariances K x d x d, in float64.

    Per image this is scikit-learn's ``GaussianMixture.score_samples`` (its ``score`` is the mean over images:
    nats per image, not per dimension; bits per dimension are -score / (d ln 2)).
    """
    x, means = x.double(), means.double()
    chol = torch.linalg.cholesky(covariances.double())  # [K, d, d]
    diff = (x[None] - means[:, None]).transpose(1, 2)  # [K, d, N]
    sol = torch.linalg.solve_triangular(chol, diff, upper=False)  # L^-1 (x - mu)
    half_logdet = chol.diagonal(dim1=1, dim2=2).log().sum(1)  # log |Sigma|^(1/2)
    d = x.shape[1]
    log_comp = -0.5 * sol.pow(2).sum(1) - half_logdet[:, None] - 0.5 * d * math.log(2 * math.pi)  # [K, N]
    return torch.logsumexp(log_comp + weights.double().log()[:, None], dim=0)


def pca_gmm_log_density(gmm, x: torch.Tensor, residual_var: float) -> torch.Tensor:
    """log p(x) in pixel space of a GMM fitted on the leading d principal components (``GMMGenerator`` with
    ``pca_components=d``), completed by an isotropic Gaussian N(0, s^2 I) on the D - d discarded directions
    (as probabilistic PCA does, Tipping & Bishop 1999): the projection is orthonormal, so

        log p(x) = log p_gmm(W^T (x - m)) + log N(r; 0, s^2 I_{D-d}),   r = x - m - W W^T (x - m),

    a density on all D pixels, comparable with the other models'. ``residual_var``: s^2, e.g. from
    :func:`pca_residual_variance` on the training data."""
    flat = x.reshape(len(x), -1).double()
    w = torch.as_tensor(gmm.pca_.components_, dtype=torch.float64)  # [d, D], orthonormal rows
    centred = flat - torch.as_tensor(gmm.pca_.mean_, dtype=torch.float64)
    proj = centred @ w.T
    resid = centred - proj @ w
    cov = torch.as_tensor(gmm.gmm_.covariances_)
    if gmm.covariance_type != "full":
        raise ValueError("pca_gmm_log_density needs covariance_type='full'")
    log_gmm = gmm_log_density(torch.as_tensor(gmm.gmm_.weights_), torch.as_tensor(gmm.gmm_.means_), cov, proj)
    k = flat.shape[1] - w.shape[0]
    log_resid = -0.5 * (resid.pow(2).sum(1) / residual_var + k * math.log(2 * math.pi * residual_var))
    return log_gmm + log_resid


def pca_residual_variance(gmm, x: torch.Tensor) -> float:
    """The maximum-likelihood s^2 of :func:`pca_gmm_log_density`: the mean squared residual per discarded
    direction, on data x (the training data)."""
    flat = x.reshape(len(x), -1).double()
    w = torch.as_tensor(gmm.pca_.components_, dtype=torch.float64)
    centred = flat - torch.as_tensor(gmm.pca_.mean_, dtype=torch.float64)
    resid = centred - centred @ w.T @ w
    return float(resid.pow(2).sum(1).mean() / (flat.shape[1] - w.shape[0]))


def dequantize(x: torch.Tensor, levels: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Discrete images in [-1, 1] with ``levels`` grey levels (2: binary, 256: 8-bit) -> y = (k + u) / levels in
    [0, 1], u ~ U(0, 1) per pixel (Theis et al. 2016, "A note on the evaluation of generative models").
    A continuous density p on y then bounds the discrete likelihood: log P(k) >= E_u log p(y) - D log(levels)."""
    k = ((x + 1) / 2 * (levels - 1)).round()
    return (k + torch.rand(x.shape, generator=generator)) / levels
