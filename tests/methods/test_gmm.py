"""The GMM baseline: EM by scikit-learn, sampled through a generator's interface."""

import math

import torch
from torch.testing import assert_close

from gankit.data.toy import get_toy
from gankit.methods.gmm import GMMGenerator


def test_gmm_sampling_recovers_the_fitted_means():
    grid = get_toy("grid")
    gmm = GMMGenerator(25, seed=0, n_init=2).fit(grid.dataset().x[:20000])
    # EM finds the true modes (each fitted mean is an average of ~800 points: s.e. 0.05 / sqrt(800) = 0.0018) ...
    true = torch.as_tensor(grid.means)
    nearest = torch.cdist(gmm.means_, true).argmin(1)
    assert sorted(nearest.tolist()) == list(range(25))
    assert_close(gmm.means_, true[nearest], atol=8e-3, rtol=0)
    # ... and sampling recovers the fitted means and weights (s.e. of a mean: 0.05 / sqrt(800) = 0.002)
    x = gmm.sample_n(20000, seed=1).double()
    k = torch.cdist(x, gmm.means_).argmin(1)
    means = torch.stack([x[k == j].mean(0) for j in range(25)])
    assert_close(means, gmm.means_, atol=0.01, rtol=0)
    assert_close(torch.bincount(k, minlength=25).double() / 20000, gmm.weights_, atol=0.01, rtol=0)


def test_sample_is_the_closed_form_map_of_z():
    x = get_toy("bimodal-1d").dataset().x[:5000]
    gmm = GMMGenerator(2, seed=0).fit(x)
    assert gmm.z_dim == 2
    z = torch.tensor([[-6.0, 0.0], [6.0, 1.5]])  # Phi(-6) ~ 0: first component; Phi(6) ~ 1: last one
    expected = torch.stack([gmm.means_[0], gmm.means_[1] + gmm.chol_[1, :, 0] * 1.5]).float()
    assert_close(gmm.sample(z), expected)


def test_pca_gmm_samples_have_the_data_shape():
    x = torch.randn(300, 1, 4, 4)
    gmm = GMMGenerator(3, pca_components=5, seed=0).fit(x)
    assert gmm.sample_n(7).shape == (7, 1, 4, 4)
    assert gmm.log_density(x[:5]).shape == (5,)
    assert math.isfinite(float(gmm.log_density(x[:5]).sum()))
