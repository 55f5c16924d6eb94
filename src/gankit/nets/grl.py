"""The gradient reversal layer of domain-adversarial training (Ganin & Lempitsky 2015, eq. 9-10)."""

from __future__ import annotations

import torch
from torch import nn


class _GradReverse(torch.autograd.Function):
    """Identity forward; gradient times -lambda backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lambd: float) -> torch.Tensor:
        ctx.lambd = lambd
        return x.view_as(x)  # a view, so that autograd records this node even for the identity

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.lambd * grad, None


def grad_reverse(x: torch.Tensor, lambd: float = 1.0) -> torch.Tensor:
    """The gradient reversal layer R_lambda: R(x) = x, dR/dx = -lambda I (Ganin & Lempitsky 2015, eq. 9-10).

    Args:
        x: any tensor.
        lambd: the reversal strength (a Python float; 0 blocks the gradient).

    Returns:
        ``x`` unchanged (as a view) whose gradient is multiplied by ``-lambd``.
    """
    return _GradReverse.apply(x, float(lambd))


class GradientReversal(nn.Module):
    """:func:`grad_reverse` as a module; set ``.lambd`` as training progresses."""

    def __init__(self, lambd: float = 1.0):
        super().__init__()
        self.lambd = lambd

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return grad_reverse(x, self.lambd)

    def extra_repr(self) -> str:
        return f"lambd={self.lambd}"
