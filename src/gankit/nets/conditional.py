"""Class-conditional networks around gankit's unconditional G and D builders (:data:`gankit.nets.ARCHS`).

G comes in two variants, both called as ``G(z, y) -> x``:

- ``concat`` (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets"): the label enters with the
  noise, G(z, y) = G'(concat(z, embed(y))), where G' is any registered generator built for a latent of size
  z_dim + embed_dim. (The paper feeds a one-hot y through its own hidden layer; a learned embedding is the
  same thing with the first layer folded in.)
- ``batchnorm``: conditional batch norm (de Vries et al. 2017, "Modulating early visual processing by
  language"; in the form of BigGAN, Brock et al. 2019): every batch norm of G' normalises without its own
  affine map and scales and shifts by linear maps of a shared class embedding, so the label reaches every
  block; G' is built for z alone.

D comes in three variants, all called as ``D(x, y) -> (logits [N], class logits [N, K] or None)``:

- ``concat`` (Mirza & Osindero 2014): y as K extra one-hot inputs, constant maps beside an image's C
  channels (C + K channels) or K more entries of a vector (D + K inputs); D' is built for that shape.
- ``projection`` (Miyato & Koyama 2018, "cGANs with Projection Discriminator", eq. 3):
  logit = psi(phi(x)) + <embed(y), phi(x)>, phi(x) D's last hidden features (flattened), psi its head.
- ``acgan`` (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs"):
  D' unconditional, plus an auxiliary K-way classifier on phi(x); y is not an input.

phi and psi are found as :func:`gankit.methods.tricks.d_features` finds D's features: ``D.features`` and
``D.head`` (DCGAN, ResNet), or ``D.net[:-1]`` and ``D.net[-1]`` (the MLP). :func:`feature_split` says
whether a D has them.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gankit.nets import ARCHS
from gankit.nets.modes import eval_mode
from gankit.nets.spectral import apply_spectral_norm

G_MODES = ("concat", "batchnorm")
D_MODES = ("concat", "projection", "acgan")


class ConditionalGenerator(nn.Module):
    """(z [N, z_dim], y [N] class indices) -> G(concat(z, embed(y))).

    Args:
        G: a generator whose input size is z_dim + embed_dim.
        num_classes: K.
        embed_dim: the size of the label embedding.
    """

    def __init__(self, G: nn.Module, num_classes: int, embed_dim: int):
        super().__init__()
        self.G = G
        self.embed = nn.Embedding(num_classes, embed_dim)  # N(0, 1): the same scale as z

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.G(torch.cat([z.flatten(1), self.embed(y)], dim=1))  # [N, z_dim + embed_dim] -> x


class ConditionalBatchNorm(nn.Module):
    """BN(h) * (1 + W_gamma e) + W_beta e: batch norm without its own scale and shift, then one computed from
    the class embedding e = embed(y) shared by all of G's norms (BigGAN's form, Brock et al. 2019, sec. 3).

    Why linear maps of a shared embedding, not a free gamma_y, beta_y per class (de Vries et al. 2017): the
    per-class tables start equal (gamma = 1, beta = 0) and Adam moves each entry by about one learning rate a
    step, so at 2e-4 G ignores the class for thousands of steps (measured: chance-level class accuracy after
    400 steps, where concatenation reaches 0.5). Projections of an N(0, 1) embedding tell the classes apart
    from the first step. The embedding is set by :class:`CBNGenerator` before each forward pass (``self.e``),
    because G' is any registered generator (an ``nn.Sequential`` among them) whose layers pass one tensor on.
    """

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm, embed_dim: int):
        super().__init__()
        self.bn = type(bn)(bn.num_features, eps=bn.eps, momentum=bn.momentum, affine=False)
        self.gain = nn.Linear(embed_dim, bn.num_features, bias=False)  # gamma - 1
        self.bias = nn.Linear(embed_dim, bn.num_features, bias=False)  # beta
        self.e: torch.Tensor | None = None

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.e is None:
            raise RuntimeError("ConditionalBatchNorm called without a class embedding: call it through CBNGenerator")
        shape = (len(h), -1) + (1,) * (h.dim() - 2)  # [N, C] -> [N, C, 1, 1] for feature maps
        return self.bn(h) * (1 + self.gain(self.e).view(shape)) + self.bias(self.e).view(shape)


class CBNGenerator(nn.Module):
    """(z, y) -> G'(z) with every batch norm of G' made a :class:`ConditionalBatchNorm` of embed(y).

    Raises:
        ValueError: G' has no batch norm (the MLP generator): there is nothing to condition.
    """

    def __init__(self, G: nn.Module, num_classes: int, embed_dim: int):
        super().__init__()
        self.G = G
        self.embed = nn.Embedding(num_classes, embed_dim)  # N(0, 1), shared by every norm
        self.norms = _replace_batch_norms(G, embed_dim)
        if not self.norms:
            raise ValueError(f"the generator {type(G).__name__} has no batch norm to condition on the class")

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        e = self.embed(y)
        for norm in self.norms:
            norm.e = e
        try:
            return self.G(z)
        finally:
            for norm in self.norms:  # no embedding lingers to be used by a later call by mistake
                norm.e = None


def _replace_batch_norms(module: nn.Module, embed_dim: int) -> list[ConditionalBatchNorm]:
    """Swap every BatchNorm1d/2d below ``module`` for a :class:`ConditionalBatchNorm`, in place; return them."""
    swapped = []
    for name, child in module.named_children():
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            norm = ConditionalBatchNorm(child, embed_dim)
            setattr(module, name, norm)
            swapped.append(norm)
        else:
            swapped += _replace_batch_norms(child, embed_dim)
    return swapped


def feature_split(D: nn.Module) -> str | None:
    """How D splits into features phi and a head psi: ``"features"`` (``D.features`` and ``D.head``),
    ``"net"`` (``D.net[:-1]`` and ``D.net[-1]``), or None when it exposes no feature layer."""
    if hasattr(D, "features") and isinstance(getattr(D, "head", None), nn.Module):
        return "features"
    if isinstance(getattr(D, "net", None), nn.Sequential):
        return "net"
    return None


# D: a discriminator with the layers feature_split named (Any: nn.Module types its sub-modules loosely)
def _phi(D: Any, split: str, x: torch.Tensor) -> torch.Tensor:
    return D.features(x) if split == "features" else D.net[:-1](x)  # DCGAN: [N, ch, b, b]; ResNet, MLP: [N, F]


def _psi(D: Any, split: str, h: torch.Tensor) -> torch.Tensor:
    return (D.head(h) if split == "features" else D.net[-1](h)).view(-1)  # [N]


def _feature_dim(D: nn.Module, split: str, in_shape: tuple[int, ...]) -> int:
    """The size of phi(x) flattened, from one dry pass in eval mode (batch norm's statistics untouched)."""
    with eval_mode(D), torch.no_grad():
        return _phi(D, split, torch.zeros(1, *in_shape)).flatten(1).shape[1]


class ConcatDiscriminator(nn.Module):
    """D'(concat(x, onehot(y))): one-hot label maps beside an image's channels, or one-hot entries after a vector."""

    def __init__(self, D: nn.Module, num_classes: int):
        super().__init__()
        self.D, self.num_classes = D, num_classes

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, None]:
        onehot = F.one_hot(y, self.num_classes).to(x.dtype)  # [N, K]
        if x.dim() == 4:
            onehot = onehot[:, :, None, None].expand(-1, -1, *x.shape[2:])  # [N, K, H, W], constant maps
        return self.D(torch.cat([x, onehot], dim=1)), None  # [N, C + K, H, W] or [N, D + K]


class ProjectionDiscriminator(nn.Module):
    """logit = psi(phi(x)) + <embed(y), phi(x)> (Miyato & Koyama 2018, eq. 3).

    The embedding V is initialised like a K x F linear layer (Glorot uniform, as in the paper's code), so
    the projection term starts on the scale of the head's own logit.
    """

    def __init__(self, D: nn.Module, num_classes: int, in_shape: tuple[int, ...]):
        super().__init__()
        split = feature_split(D)
        if split is None:
            raise ValueError(f"the discriminator {type(D).__name__} exposes no feature layer phi(x)")
        self.D, self.split = D, split
        self.embed = nn.Embedding(num_classes, _feature_dim(D, self.split, in_shape))
        nn.init.xavier_uniform_(self.embed.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, None]:
        h = _phi(self.D, self.split, x)
        projection = (self.embed(y) * h.flatten(1)).sum(1)  # <V y, phi(x)>: [N]
        return _psi(self.D, self.split, h) + projection, None


class ACDiscriminator(nn.Module):
    """An unconditional D' and an auxiliary classifier on its features: x -> (logit, class logits [N, K]).
    ``y`` is accepted for the common signature and not used: D does not see the label."""

    def __init__(self, D: nn.Module, num_classes: int, in_shape: tuple[int, ...]):
        super().__init__()
        split = feature_split(D)
        if split is None:
            raise ValueError(f"the discriminator {type(D).__name__} exposes no feature layer phi(x)")
        self.D, self.split = D, split
        self.classifier = nn.Linear(_feature_dim(D, self.split, in_shape), num_classes)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = _phi(self.D, self.split, x)
        return _psi(self.D, self.split, h), self.classifier(h.flatten(1))


def _with_z_dim(cfg, z_dim: int):
    """A copy of a model config with another latent size (the original is left alone)."""
    cfg = copy.copy(cfg)
    cfg.z_dim = z_dim
    return cfg


def conditional_generator(
    cfg, data_shape: tuple[int, ...], num_classes: int, embed_dim: int, mode: str = "concat"
) -> nn.Module:
    """G(z, y) for ``cfg.arch`` (a ModelConfig) in ``mode`` (one of :data:`G_MODES`), around the G its builder
    in :data:`ARCHS` makes (its D is dropped): for ``concat`` built for a latent of size z_dim + embed_dim, for
    ``batchnorm`` for z_dim, with its batch norms made conditional on an embedding of size embed_dim.

    Raises:
        ValueError: ``mode`` is batchnorm and the G has no batch norm.
    """
    if mode == "concat":
        G, _ = ARCHS[cfg.arch](_with_z_dim(cfg, cfg.z_dim + embed_dim), tuple(data_shape))
        return ConditionalGenerator(G, num_classes, embed_dim)
    if mode == "batchnorm":
        return CBNGenerator(ARCHS[cfg.arch](cfg, tuple(data_shape))[0], num_classes, embed_dim)
    raise ValueError(f"unknown conditioning of G '{mode}' (known: {', '.join(G_MODES)})")


def conditional_discriminator(cfg, data_shape: tuple[int, ...], num_classes: int, mode: str) -> nn.Module:
    """D(x, y) -> (logits, class logits or None) in ``mode`` (one of :data:`D_MODES`), around the D that
    ``cfg.arch``'s builder in :data:`ARCHS` makes (its G is dropped); with ``cfg.spectral_norm`` every layer
    is spectrally normalised, the projection's embedding included (as in Miyato & Koyama 2018).

    Raises:
        ValueError: ``mode`` is projection or acgan and the D exposes no feature layer.
    """
    shape, arch = tuple(data_shape), ARCHS[cfg.arch]
    if mode == "concat":
        channels, *rest = shape
        _, D = arch(cfg, (channels + num_classes, *rest))  # C + K channels, or D + K inputs
        D = ConcatDiscriminator(D, num_classes)
    elif mode == "projection":
        D = ProjectionDiscriminator(arch(cfg, shape)[1], num_classes, shape)
    elif mode == "acgan":
        D = ACDiscriminator(arch(cfg, shape)[1], num_classes, shape)
    else:
        raise ValueError(f"unknown conditioning of D '{mode}' (known: {', '.join(D_MODES)})")
    if getattr(cfg, "spectral_norm", False):
        apply_spectral_norm(D)
        if isinstance(D, ProjectionDiscriminator):
            torch.nn.utils.parametrizations.spectral_norm(D.embed)
    return D
