"""A Gaussian mixture model fitted by EM (scikit-learn's ``GaussianMixture``) behind a generator's interface.

The lectures' first generative model (seed lecture 000): fit p(x) = sum_k pi_k N(x; mu_k, Sigma_k) by
expectation-maximisation and sample it. Here it is a *generator*: :meth:`GMMGenerator.sample` maps latent
codes z ~ N(0, I) of ``z_dim = 1 + D`` dimensions to data, like a GAN's G:

    k = the component whose cumulative weight interval holds Phi(z_0)     (Phi: the normal CDF)
    x = mu_k + L_k z_{1:}                                                  (L_k L_k^T = Sigma_k)

so z ~ N(0, I) gives exact samples of the fitted mixture, and the same tables and plots take GMMs and GANs.
For images, ``pca_components`` first projects the flattened data onto its leading principal components
(a full-covariance GMM on 784 pixels has 300k parameters per component and no hope of a good fit).
"""

from __future__ import annotations

import math

import numpy as np
import torch


class GMMGenerator:
    """EM-fitted Gaussian mixture with a generator's ``sample(z)``.

    Args:
        n_components: K, the number of Gaussians.
        covariance_type: scikit-learn's ``full`` | ``diag`` | ``spherical`` | ``tied``.
        pca_components: project data onto this many principal components first (None: no projection).
        seed: seeds EM's k-means initialisation.
        n_init: EM restarts; the best likelihood is kept.
    """

    def __init__(
        self,
        n_components: int,
        *,
        covariance_type: str = "full",
        pca_components: int | None = None,
        seed: int = 0,
        n_init: int = 1,
        max_iter: int = 200,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.pca_components = pca_components
        self.seed = seed
        self.n_init = n_init
        self.max_iter = max_iter

    def fit(self, x: torch.Tensor) -> GMMGenerator:
        """Fit on data x (N x ...); returns self. Learned state ends in ``_``."""
        from sklearn.decomposition import PCA
        from sklearn.mixture import GaussianMixture

        x = torch.as_tensor(x)
        self.shape_ = tuple(x.shape[1:])
        flat = x.reshape(len(x), -1).double().numpy()
        self.pca_ = None
        if self.pca_components is not None:
            self.pca_ = PCA(self.pca_components, random_state=self.seed).fit(flat)
            flat = self.pca_.transform(flat)
        self.gmm_ = GaussianMixture(
            self.n_components,
            covariance_type=self.covariance_type,
            random_state=self.seed,
            n_init=self.n_init,
            max_iter=self.max_iter,
            reg_covar=1e-6,
        )
        self.gmm_.fit(flat)
        d = flat.shape[1]
        self.dim_ = d
        self.weights_ = torch.as_tensor(self.gmm_.weights_, dtype=torch.float64)
        self.means_ = torch.as_tensor(self.gmm_.means_, dtype=torch.float64)  # [K, d] (PCA space)
        self.chol_ = torch.as_tensor(
            _cholesky(self.gmm_.covariances_, self.covariance_type, self.n_components, d), dtype=torch.float64
        )  # [K, d, d]
        return self

    @property
    def z_dim(self) -> int:
        return 1 + self.dim_

    def noise(self, n: int, seed: int | None = None) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        return torch.randn(n, self.z_dim, generator=g)

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        """Data (float32, N x shape) from latent codes z ~ N(0, I) of ``z_dim`` dimensions."""
        z = torch.as_tensor(z, dtype=torch.float64)
        u = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))  # Phi(z_0) ~ U(0, 1)
        cum = self.weights_.cumsum(0)
        k = torch.searchsorted(cum / cum[-1], u.contiguous()).clamp_(max=self.n_components - 1)
        x = self.means_[k] + (self.chol_[k] @ z[:, 1:, None]).squeeze(-1)  # [N, d]
        if self.pca_ is not None:
            x = x @ torch.as_tensor(self.pca_.components_) + torch.as_tensor(self.pca_.mean_)
        return x.float().reshape(len(z), *self.shape_)

    def sample_n(self, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` samples, reproducible by ``seed``."""
        return self.sample(self.noise(n, seed))

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) under the fitted mixture (in PCA space when a projection is used)."""
        flat = torch.as_tensor(x).reshape(len(x), -1).double().numpy()
        if self.pca_ is not None:
            flat = self.pca_.transform(flat)
        return torch.as_tensor(self.gmm_.score_samples(flat))


def _cholesky(cov: np.ndarray, kind: str, k: int, d: int) -> np.ndarray:
    """Lower Cholesky factors K x d x d of scikit-learn's covariances, whatever their storage."""
    if kind == "full":
        return np.linalg.cholesky(cov)
    if kind == "tied":
        return np.broadcast_to(np.linalg.cholesky(cov), (k, d, d)).copy()
    if kind == "diag":
        return np.stack([np.diag(np.sqrt(c)) for c in cov])
    if kind == "spherical":
        return np.stack([np.sqrt(c) * np.eye(d) for c in cov])
    raise ValueError(f"unknown covariance_type {kind!r}")
