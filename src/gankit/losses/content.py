"""Content losses for image-to-image models: pixel MSE and a distance between fixed network features.

Ledig et al. 2017 (SRGAN) train with l_SR = l_content + 1e-3 l_adv, where l_content is the pixel MSE
(SRResNet, SRGAN-MSE) or the MSE between VGG feature maps of the output and the target (SRGAN-VGG), which asks
for the same structure without asking for the same pixels, so the adversarial term may pick a sharp texture.
"""

from __future__ import annotations

from typing import Callable

import torch


def mse(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared pixel error: what a regressor minimises, and why it predicts the conditional mean."""
    return (output - target).pow(2).mean()


def feature_mse(
    phi: Callable[[torch.Tensor], torch.Tensor], output: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """Mean squared error between the feature maps ``phi(output)`` and ``phi(target)`` (no gradient into phi's
    parameters is needed: freeze them; the target's features carry no gradient)."""
    with torch.no_grad():
        f_target = phi(target)
    return (phi(output) - f_target).pow(2).mean()
