"""Minibatch discrimination (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 3.2).

A collapsed generator makes every sample of a minibatch look alike, and a D that judges one sample
at a time cannot see that. Minibatch discrimination lets D see how close each sample is to the others:
D's features f(x_i) in R^A are multiplied by a tensor T in R^{A x B x C} to give M_i in R^{B x C}, and

    c_b(x_i, x_j) = exp(-|| M_{i,b} - M_{j,b} ||_1),      o(x_i)_b = sum_{j != i} c_b(x_i, x_j),

so o(x_i) in R^B counts, per kernel b, the near neighbours of x_i in the batch. D's last layer then sees
[f(x_i), o(x_i)]. Real and generated batches go through D separately (as in :func:`gankit.methods.gan.d_step`),
so o measures the diversity *within* each batch.
"""

from __future__ import annotations

import torch
from torch import nn

from gankit.errors import UserError


class MinibatchDiscrimination(nn.Module):
    """features (N x A) -> [features, o] (N x (A + B)).

    Args:
        in_features: A.
        kernels: B, the number of similarity kernels.
        kernel_dim: C, the dimension each kernel compares in.
    """

    def __init__(self, in_features: int, kernels: int = 50, kernel_dim: int = 5):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.05)  # the paper's tensor T, flattened

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        M = (f @ self.T).view(-1, self.kernels, self.kernel_dim).transpose(0, 1)  # [B, N, C]
        l1 = torch.cdist(M, M, p=1)  # [B, N, N]: ||M_i,b - M_j,b||_1
        o = torch.exp(-l1).sum(2).t() - 1.0  # [N, B]; minus c_b(x_i, x_i) = 1: only the others count
        return torch.cat([f, o], dim=1)


class MinibatchDiscriminator(nn.Module):
    """A discriminator's feature extractor, then minibatch discrimination, then a linear head to one logit."""

    def __init__(self, features: nn.Module, feature_dim: int, kernels: int, kernel_dim: int):
        super().__init__()
        self.features = features
        self.mbd = MinibatchDiscrimination(feature_dim, kernels, kernel_dim)
        self.head = nn.Linear(feature_dim + kernels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x).flatten(1)  # [N, A]
        return self.head(self.mbd(f)).view(-1)


def add_minibatch_discrimination(D: nn.Module, kernels: int, kernel_dim: int) -> nn.Module:
    """Insert minibatch discrimination before D's last layer.

    Works on :class:`gankit.nets.MLPDiscriminator` (its ``net`` ends in a Linear to one logit) and on any D
    with a ``features`` module and a ``head`` (Linear or a full-size Conv2d), such as the DCGAN one.
    """
    net = getattr(D, "net", None)
    if isinstance(net, nn.Sequential) and isinstance(net[-1], nn.Linear):
        return MinibatchDiscriminator(net[:-1], net[-1].in_features, kernels, kernel_dim)
    head = getattr(D, "head", None)
    features = getattr(D, "features", None)
    if isinstance(features, nn.Module) and isinstance(head, nn.Linear):
        return MinibatchDiscriminator(features, head.in_features, kernels, kernel_dim)
    if isinstance(features, nn.Module) and isinstance(head, nn.Conv2d):
        kh, kw = head.kernel_size  # a full-size conv is a linear layer on the flattened features
        return MinibatchDiscriminator(features, head.in_channels * kh * kw, kernels, kernel_dim)
    raise UserError(f"model.minibatch_kernels: cannot add minibatch discrimination to {type(D).__name__}")
