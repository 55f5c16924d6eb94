"""The three networks of domain-adversarial training (Ganin & Lempitsky 2015; Ganin et al. 2016, JMLR).

    features    G_f: x -> f          (shared by both domains)
    classifier  G_y: f -> class logits, its last hidden layer is the "penultimate" feature
    domain      G_d: f -> one logit   (source = 0, target = 1)

Builders pick the feature extractor by the input's shape: an MLP for vectors (the 2-D toys) and a
small CNN for images (28 x 28 gray or colour, or small colour images), shaped after the JMLR paper's
MNIST architecture (two conv5x5 stages; label predictor 100-100; domain classifier 100), with strided
convolutions and batch normalisation so that training from scratch on a few thousand images
converges in a few hundred steps on a CPU.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn


class MLPFeatures(nn.Module):
    """Vectors (N x D) -> features (N x hidden): ``depth`` Linear+ReLU layers."""

    def __init__(self, in_dim: int, hidden: int = 32, depth: int = 1):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(depth):
            layers += [nn.Linear(in_dim if i == 0 else hidden, hidden), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.out_dim = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvFeatures(nn.Module):
    """Images (N x C x H x W, H = W >= 16) -> features (N x 32 * width, or N x bottleneck).

    Two strided conv5x5 stages (``width`` and 2 ``width`` channels, 28 -> 14 -> 7) with batch norm,
    then an adaptive average pool to 4 x 4 so that one builder serves 28, 32 and 64 pixels. Strides
    instead of the paper's max pooling make it about 5x cheaper: it must train on a shared CPU.
    With ``bottleneck > 0`` a Linear+BatchNorm+ReLU layer of that width ends it: fewer feature
    directions for the domain classifier to read the domain from (digits -> mnist needs it).
    """

    def __init__(self, channels: int, width: int = 16, dropout: float = 0.1, bottleneck: int = 0):
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(channels, width, 5, stride=2, padding=2),
            nn.BatchNorm2d(width),
            nn.ReLU(),  # 28 -> 14
            nn.Conv2d(width, 2 * width, 5, stride=2, padding=2),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),  # 14 -> 7
            nn.Dropout2d(dropout),
            nn.AdaptiveAvgPool2d(4),  # 7 -> 4
            nn.Flatten(),
        ]
        self.out_dim = 2 * width * 16
        if bottleneck:
            layers += [nn.Linear(self.out_dim, bottleneck), nn.BatchNorm1d(bottleneck), nn.ReLU()]
            self.out_dim = bottleneck
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _relu_stack(in_dim: int, hidden: tuple[int, ...]) -> tuple[list[nn.Module], int]:
    """Linear+ReLU layers of the given widths; returns the layers and the output width."""
    layers: list[nn.Module] = []
    d = in_dim
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    return layers, d


class LabelPredictor(nn.Module):
    """Features -> class logits through ``len(hidden)`` Linear+ReLU layers; ``penultimate`` gives the last
    hidden layer."""

    def __init__(self, in_dim: int, num_classes: int, hidden: tuple[int, ...] = (100, 100)):
        super().__init__()
        layers, d = _relu_stack(in_dim, hidden)
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(d, num_classes)

    def penultimate(self, f: torch.Tensor) -> torch.Tensor:
        return self.hidden(f)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.out(self.hidden(f))


class DomainClassifier(nn.Module):
    """Features -> one logit (target vs source), with ``len(hidden)`` Linear+ReLU layers."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...] = (100,)):
        super().__init__()
        layers, d = _relu_stack(in_dim, hidden)
        self.net = nn.Sequential(*layers, nn.Linear(d, 1))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.net(f).squeeze(1)  # N x 1 -> N


@dataclass
class DANNNets:
    """The three networks; ``modules()`` names them for checkpoints."""

    features: nn.Module
    classifier: LabelPredictor
    domain: DomainClassifier

    def modules(self) -> dict[str, nn.Module]:
        return {"features": self.features, "classifier": self.classifier, "domain": self.domain}

    def to(self, device: torch.device) -> DANNNets:
        for m in self.modules().values():
            m.to(device)
        return self

    def train(self, mode: bool = True) -> None:
        for m in self.modules().values():
            m.train(mode)

    def parameters(self) -> list[nn.Parameter]:
        return [p for m in self.modules().values() for p in m.parameters()]

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
        """Class predictions (eval mode), in batches."""
        self.train(False)
        out = torch.cat([self.classifier(self.features(xb)).argmax(1) for xb in x.split(batch)])
        self.train(True)
        return out

    @torch.no_grad()
    def with_batch_statistics(self, x: torch.Tensor, batch: int = 500) -> DANNNets:
        """A copy whose batch-norm layers normalise with the statistics of ``x`` (AdaBN; Li et al., "Revisiting
        Batch Normalization For Practical Domain Adaptation", 2016): run it on a domain's unlabelled items and the
        copy normalises that domain by its own mean and variance. Only the feature extractor holds batch norm."""
        features = copy.deepcopy(self.features).eval()  # eval: dropout off while the statistics are gathered
        norms = [m for m in features.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
        for bn in norms:
            bn.reset_running_stats()
            bn.momentum = None  # a cumulative average over the batches instead of an exponential one
            bn.train()
        for xb in x.split(batch):
            features(xb)
        return DANNNets(features.eval(), self.classifier, self.domain)

    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
        """Penultimate features (eval mode), the input of the last linear layer."""
        self.train(False)
        out = torch.cat([self.classifier.penultimate(self.features(xb)) for xb in x.split(batch)])
        self.train(True)
        return out


def dann_nets(
    data_shape: tuple[int, ...],
    num_classes: int,
    width: int = 32,
    hidden: int = 100,
    domain_layers: int = 1,
    dropout: float = 0.1,
    bottleneck: int = 0,
) -> DANNNets:
    """Build the DANN networks for data of ``data_shape`` (one item's shape).

    Args:
        data_shape: ``(D,)`` for vectors or ``(C, H, W)`` for images (H = W >= 28).
        num_classes: number of labels.
        width: vectors: hidden units of the feature MLP; images: channels of the first conv.
        hidden: units of the label predictor's and domain classifier's hidden layers (images).
        domain_layers: hidden layers of the domain classifier (images; the JMLR paper's MNIST net has 1).
        dropout: channel dropout at the end of the image feature extractor.
        bottleneck: if > 0, a Linear+BatchNorm+ReLU layer of this width ends the image feature extractor.

    Returns:
        A :class:`DANNNets` (features, classifier, domain).
    """
    if len(data_shape) == 1:
        # The JMLR toy uses one hidden layer; a second keeps the boundary smooth enough to bend.
        feats: nn.Module = MLPFeatures(data_shape[0], hidden=width, depth=2)
        return DANNNets(feats, LabelPredictor(width, num_classes, hidden=()), DomainClassifier(width, hidden=(width,)))
    if len(data_shape) != 3 or data_shape[1] != data_shape[2] or data_shape[1] < 16:
        raise ValueError(
            f"DANN nets take vectors or square images of at least 16 pixels, got shape {tuple(data_shape)}"
        )
    feats = ConvFeatures(data_shape[0], width=width, dropout=dropout, bottleneck=bottleneck)
    return DANNNets(
        feats,
        LabelPredictor(feats.out_dim, num_classes, hidden=(hidden, hidden)),
        DomainClassifier(feats.out_dim, hidden=(hidden,) * domain_layers),
    )
