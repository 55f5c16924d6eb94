"""Spectral normalisation brings a layer's largest singular value to 1 (within 1e-3) once the power
iteration (one step per training forward) has converged."""

import torch
from torch import nn

from gankit.nets import apply_spectral_norm


def _converge(layer: nn.Module, x: torch.Tensor, n: int = 50) -> None:
    layer.train()
    for _ in range(n):
        layer(x)


def test_linear_layer_top_singular_value_is_one():
    torch.manual_seed(0)
    layer = nn.Linear(20, 10)
    with torch.no_grad():
        layer.weight.mul_(7.0)
    assert torch.linalg.matrix_norm(layer.weight.detach(), 2) > 2.0  # well away from 1 before
    apply_spectral_norm(layer)
    _converge(layer, torch.randn(4, 20))
    sigma = torch.linalg.matrix_norm(layer.weight.detach(), 2)
    torch.testing.assert_close(sigma, torch.tensor(1.0), atol=1e-3, rtol=0)


def test_conv_kernel_matrix_top_singular_value_is_one():
    """Miyato et al. normalise the kernel reshaped to (out, in * k * k)."""
    torch.manual_seed(1)
    net = apply_spectral_norm(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 4, 3)))
    _converge(net, torch.randn(2, 3, 9, 9))
    for conv in (net[0], net[2]):
        w = conv.weight.detach().flatten(1)
        torch.testing.assert_close(torch.linalg.matrix_norm(w, 2), torch.tensor(1.0), atol=1e-3, rtol=0)
