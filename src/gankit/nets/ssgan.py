"""The networks of the semi-supervised GAN (Salimans et al. 2016, "Improved Techniques for Training GANs",
section 5 and the MNIST model of their code).

    SSClassifier  D: x -> f(x) -> K class logits   (the fake class is implicit: gankit.losses.semi_supervised)
    SSGenerator   G: z -> x

The paper's MNIST classifier is an MLP of 1000-500-250-250-250 units with Gaussian noise added to the input
of every layer (std 0.3 on the pixels, 0.5 on hidden units) and weight normalisation (Salimans & Kingma 2016)
on every Linear layer; feature matching reads its last hidden layer. Its G is an MLP 500-500 with batch norm
and softplus. ``conv`` swaps the MLP for a small all-convolutional classifier (the same noise and weight
normalisation, no batch norm: D's batches mix labelled, unlabelled and generated images).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from gankit.nets.modes import eval_mode


class GaussianNoise(nn.Module):
    """x + sigma * N(0, 1) in training mode; the identity in eval mode (the paper's regulariser of D)."""

    def __init__(self, sigma: float):
        super().__init__()
        self.sigma = sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.sigma == 0:
            return x
        return x + self.sigma * torch.randn_like(x)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma}"


def _scale(layer: nn.Module) -> torch.Tensor:
    """g of a weight-normalised layer (``weight_norm``'s ``original0``)."""
    parametrizations: Any = layer.parametrizations  # nn.Module types sub-modules as Tensor | Module
    return parametrizations.weight.original0


def _bias(layer: nn.Module) -> torch.Tensor:
    bias = layer.bias
    assert isinstance(bias, torch.Tensor)  # the layers here keep their bias
    return bias


def _wn(layer: nn.Linear | nn.Conv2d, gain: float, train_scale: bool = True) -> nn.Module:
    """``layer`` with weight normalisation w = g v / ||v|| (Salimans & Kingma 2016), every row's norm g set to
    ``gain``. With PyTorch's default initialisation (rows of norm ~ 1/sqrt(3)) the signal shrinks ~2.5x per ReLU
    layer and the paper's noise of std 0.5 on the hidden units would drown it; rows of norm sqrt(2) keep the
    second moment through each ReLU layer, the role of the paper's data-dependent initialisation.

    ``train_scale=False`` keeps g fixed, as the paper's code does for every hidden layer of its MNIST classifier
    (only the output layer trains its scale): with fixed row norms D cannot grow its activations until the
    Gaussian noise on them stops mattering, so the noise keeps regularising for the whole run."""
    layer = weight_norm(layer)
    scale = _scale(layer)
    with torch.no_grad():
        scale.fill_(gain)
        _bias(layer).zero_()
    scale.requires_grad_(train_scale)
    return layer


RELU_GAIN = math.sqrt(2.0)


def _mlp_features(
    in_dim: int, hidden: tuple[int, ...], input_noise: float, hidden_noise: float, train_scale: bool
) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_dim
    for i, h in enumerate(hidden):
        layers += [
            GaussianNoise(input_noise if i == 0 else hidden_noise),
            _wn(nn.Linear(width, h), RELU_GAIN, train_scale),
            nn.ReLU(),
        ]
        width = h
    return nn.Sequential(*layers)


def _conv_features(
    channels: int, width: int, input_noise: float, hidden_noise: float, train_scale: bool
) -> nn.Sequential:
    def conv(c_in: int, c_out: int, k: int, stride: int, noise: float) -> list[nn.Module]:
        layer = _wn(nn.Conv2d(c_in, c_out, k, stride, k // 2), RELU_GAIN, train_scale)
        return [GaussianNoise(noise), layer, nn.LeakyReLU(0.2)]

    w = width
    return nn.Sequential(
        *conv(channels, w, 3, 1, input_noise),  # [N, w, 28, 28]
        *conv(w, 2 * w, 3, 2, hidden_noise),  # [N, 2w, 14, 14]
        *conv(2 * w, 2 * w, 3, 1, hidden_noise),
        *conv(2 * w, 4 * w, 3, 2, hidden_noise),  # [N, 4w, 7, 7]
        *conv(4 * w, 4 * w, 3, 1, hidden_noise),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),  # [N, 4w]
    )


class SSClassifier(nn.Module):
    """Images -> (K logits); :meth:`features` is f(x), the layer feature matching reads (the last hidden one)."""

    def __init__(
        self,
        in_shape: tuple[int, ...],
        num_classes: int,
        arch: Literal["mlp", "conv"] = "mlp",
        hidden: tuple[int, ...] = (1000, 500, 250, 250, 250),
        width: int = 32,
        input_noise: float = 0.3,
        hidden_noise: float = 0.5,
        train_hidden_scale: bool = False,
    ):
        super().__init__()
        self.num_classes = num_classes
        if arch == "mlp":
            self.body = _mlp_features(math.prod(in_shape), tuple(hidden), input_noise, hidden_noise, train_hidden_scale)
            feature_dim = hidden[-1]
        else:
            self.body = _conv_features(in_shape[0], width, input_noise, hidden_noise, train_hidden_scale)
            feature_dim = 4 * width
        self.head = nn.Sequential(GaussianNoise(hidden_noise), _wn(nn.Linear(feature_dim, num_classes), 1.0))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
        """Class indices, in eval mode (no noise), ``batch`` images at a time."""
        with eval_mode(self):
            return torch.cat([self(x[i : i + batch]).argmax(1) for i in range(0, len(x), batch)])


@torch.no_grad()
def init_from_data(D: SSClassifier, x: torch.Tensor) -> None:
    """The data-dependent initialisation of weight normalisation (Salimans & Kingma 2016, sec. 2.2), as the
    paper's code does before training: layer by layer, the scale g and bias b are set so that each unit's
    pre-activation has mean 0 and standard deviation 1 over the batch ``x``. One forward pass in eval mode (no
    noise, so every process of a distributed run computes the same values from the same images); each layer's
    output is normalised on the way, so the next layer sees what it will see after the update."""

    def normalise(layer: nn.Module, _inputs, out: torch.Tensor) -> torch.Tensor:
        dims = [d for d in range(out.dim()) if d != 1]  # all but the unit (channel) dimension
        mean, std = out.mean(dims), out.std(dims).clamp_min(1e-6)
        scale = _scale(layer)  # g, one per unit: [out, 1] or [out, 1, 1, 1]
        scale.div_(std.view(scale.shape))
        _bias(layer).copy_(-mean / std)
        view = [1, -1] + [1] * (out.dim() - 2)
        return (out - mean.view(view)) / std.view(view)

    layers = [m for m in D.modules() if isinstance(m, (nn.Linear, nn.Conv2d)) and hasattr(m, "parametrizations")]
    hooks = [m.register_forward_hook(normalise) for m in layers]
    try:
        with eval_mode(D):
            D(x)
    finally:
        for h in hooks:
            h.remove()


class SSGenerator(nn.Module):
    """z (N x z_dim) -> images (N x *out_shape) in [-1, 1]: Linear+BN+softplus layers, then a weight-normalised
    Linear and tanh (the paper's MNIST G, whose sigmoid gave [0, 1] pixels)."""

    def __init__(self, z_dim: int, out_shape: tuple[int, ...], hidden: tuple[int, ...] = (500, 500)):
        super().__init__()
        self.z_dim, self.out_shape = z_dim, tuple(out_shape)
        layers: list[nn.Module] = []
        width = z_dim
        for h in hidden:
            layers += [nn.Linear(width, h, bias=False), nn.BatchNorm1d(h), nn.Softplus()]
            width = h
        layers += [weight_norm(nn.Linear(width, math.prod(self.out_shape))), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.out_shape)
