"""Jacobian-based truncation (gankit.sampling.truncation) against closed-form Jacobians."""

import pytest
import torch
from torch import nn

from gankit.errors import UserError
from gankit.sampling.truncation import jacobian_norms, truncated_latents


def test_linear_map_has_the_frobenius_norm_of_its_matrix_everywhere():
    A = torch.tensor([[1.0, 2.0], [0.0, -3.0], [4.0, 0.5]])
    z = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    norms = jacobian_norms(lambda zz: zz @ A.T + 1.0, z)
    torch.testing.assert_close(norms, torch.full((50,), A.norm().item()))


def test_exact_norms_match_autograd_jacobians_of_a_relu_mlp():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
    z = torch.randn(20, 3)
    expected = torch.stack([torch.autograd.functional.jacobian(lambda v: G(v[None])[0], zi).norm() for zi in z])
    with torch.no_grad():  # the norms come from forward-mode products, which no_grad does not switch off
        norms = jacobian_norms(G, z)
    torch.testing.assert_close(norms, expected, rtol=1e-5, atol=1e-6)


def test_random_probes_estimate_the_squared_norm_without_bias():
    A = torch.randn(5, 8, generator=torch.Generator().manual_seed(1))
    z = torch.zeros(2000, 8)
    estimate = jacobian_norms(lambda zz: zz @ A.T, z, probes=4, generator=torch.Generator().manual_seed(2)).pow(2).mean()
    assert estimate.item() == pytest.approx(A.norm().pow(2).item(), rel=0.03)


def test_truncation_drops_the_latents_where_the_map_stretches_most():
    # G(z) = (tanh(10 z_1), z_2): ||J||^2 = 100 sech^4(10 z_1) + 1 falls with |z_1|, so JBT drops the smallest |z_1|.
    def G(z):
        return torch.stack([torch.tanh(10 * z[:, 0]), z[:, 1]], 1)

    kept = truncated_latents(G, 800, 2, ratio=0.2, seed=3)
    candidates = torch.randn(1000, 2, generator=torch.Generator().manual_seed(3))
    order = candidates[:, 0].abs().argsort()
    assert kept.shape == (800, 2)
    torch.testing.assert_close(kept, candidates[order[200:].sort().values])


def test_no_truncation_is_plain_gaussian_latents():
    torch.testing.assert_close(truncated_latents(lambda z: z, 10, 4, ratio=0.0, seed=5), torch.randn(10, 4, generator=torch.Generator().manual_seed(5)))


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5])
def test_a_ratio_outside_zero_one_is_a_user_error(ratio):
    with pytest.raises(UserError, match="ratio"):
        truncated_latents(lambda z: z, 10, 2, ratio=ratio)


def test_zero_probes_is_a_user_error():
    with pytest.raises(UserError, match="probes 0"):
        jacobian_norms(lambda z: z, torch.zeros(3, 2), probes=0)
