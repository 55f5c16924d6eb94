"""A small CNN classifier for 28x28 grayscale images (Fashion-MNIST, MNIST).

It serves evaluation (:mod:`gankit.metrics`): its penultimate layer gives features for a fast
domain-specific Fréchet distance, and its softmax gives the class probabilities behind the
Inception Score (Salimans et al. 2016) and class coverage. Trained by ``gankit train-classifier``;
the weights ship in ``gankit/assets/<dataset>-classifier.safetensors``.
"""

from __future__ import annotations

import torch
from torch import nn


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class SmallCNN(nn.Module):
    """conv(32) -> pool -> conv(64) -> pool -> conv(128) -> pool -> fc(feature_dim) -> fc(classes).

    Args:
        num_classes: number of output classes.
        channels: input channels.
        width: channels of the first block (then 2x, 4x).
        feature_dim: size of the penultimate layer (the features used for FID).
    """

    def __init__(self, num_classes: int = 10, channels: int = 1, width: int = 32, feature_dim: int = 128):
        super().__init__()
        self.body = nn.Sequential(
            _block(channels, width),
            nn.MaxPool2d(2),  # 28 -> 14
            _block(width, 2 * width),
            nn.MaxPool2d(2),  # 14 -> 7
            _block(2 * width, 4 * width),
            nn.MaxPool2d(2),  # 7 -> 3
            nn.Flatten(),  # N x 4w*3*3: keeps where things are (a global average loses ~3 points of accuracy)
        )
        self.embed = nn.Sequential(nn.Linear(4 * width * 9, feature_dim), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(feature_dim, num_classes))
        self.num_classes, self.feature_dim = num_classes, feature_dim

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """N x C x 28 x 28 in [-1, 1] -> N x feature_dim penultimate activations."""
        return self.embed(self.body(x))

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        return f, self.head(f)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def small_cnn(num_classes: int = 10, channels: int = 1) -> SmallCNN:
    """The preset shipped for Fashion-MNIST and MNIST (about 260k parameters, 1.0 MB)."""
    return SmallCNN(num_classes=num_classes, channels=channels, width=32, feature_dim=128)
