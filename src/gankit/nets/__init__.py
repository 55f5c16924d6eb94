"""Networks: plain ``nn.Module``s and small builders. No optimizer, loss or logging in here.

``build_gan(model_cfg, data_shape)`` returns (G, D) for the architecture named in the config.
Adding an architecture: a builder ``(cfg, data_shape) -> (G, D)`` decorated with ``@register_arch``.
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from gankit.errors import UserError

from gankit.nets.dcgan import DCGANDiscriminator, DCGANGenerator, default_depth
from gankit.nets.mlp import MLPDiscriminator, MLPGenerator
from gankit.nets.began import BEGANDiscriminator, BEGANGenerator
from gankit.nets.resnet import ResNetDiscriminator, ResNetGenerator
from gankit.nets.spectral import apply_spectral_norm
from gankit.nets.wavegan import WaveGANDiscriminator, WaveGANGenerator

Builder = Callable[..., tuple[nn.Module, nn.Module]]
ARCHS: dict[str, Builder] = {}


def register_arch(name: str) -> Callable[[Builder], Builder]:
    """Register a builder ``(model_cfg, data_shape) -> (G, D)`` as ``model.arch=NAME``."""
    def deco(fn: Builder) -> Builder:
        ARCHS[name] = fn
        return fn

    return deco


@register_arch("dcgan")
def dcgan(cfg, data_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """``model.arch=dcgan``: Radford et al. 2016's G and D for square images (:mod:`gankit.nets.dcgan`)."""
    channels, size, _ = data_shape
    G = DCGANGenerator(cfg.z_dim, size, channels, width=cfg.g_width, depth=cfg.depth)
    D = DCGANDiscriminator(size, channels, width=cfg.d_width, depth=cfg.depth)
    return G, D


@register_arch("mlp")
def mlp(cfg, data_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """``model.arch=mlp``: fully connected G and D, for toy points or flattened images."""
    depth = cfg.depth or 2
    # Images are bounded in [-1, 1], so G ends in tanh; toy data (vectors) is unbounded.
    squash = len(data_shape) == 3
    G = MLPGenerator(cfg.z_dim, data_shape, hidden=cfg.g_width, depth=depth, tanh=squash, scale=cfg.data_scale)
    D = MLPDiscriminator(data_shape, hidden=cfg.d_width, depth=depth, scale=cfg.data_scale)
    return G, D


@register_arch("resnet")
def resnet(cfg, data_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """``model.arch=resnet``: residual G and D (Gulrajani et al. 2017; Miyato et al. 2018)."""
    channels, size, _ = data_shape
    G = ResNetGenerator(cfg.z_dim, size, channels, width=cfg.g_width, depth=cfg.depth)
    D = ResNetDiscriminator(size, channels, width=cfg.d_width, depth=cfg.depth)
    return G, D


@register_arch("began")
def began(cfg, data_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """``model.arch=began``: Berthelot et al. 2017's G and auto-encoder D (with ``gan.loss=began``)."""
    channels, size, _ = data_shape
    G = BEGANGenerator(cfg.z_dim, size, channels, width=cfg.g_width)
    D = BEGANDiscriminator(size, channels, width=cfg.d_width, z_dim=cfg.z_dim)  # D's embedding size = z_dim
    return G, D


@register_arch("wavegan")
def wavegan(cfg, data_shape: tuple[int, ...], upsample: str = "transposed") -> tuple[nn.Module, nn.Module]:
    """``model.arch=wavegan``: Donahue et al. 2019's 1-D G and D (phase shuffle n=2) for C x T audio clips."""
    if len(data_shape) != 2:
        raise UserError(f"model.arch={cfg.arch} takes audio clips (C x T), not data of shape {list(data_shape)}")
    channels, length = data_shape
    G = WaveGANGenerator(cfg.z_dim, length, channels, width=cfg.g_width, upsample=upsample)
    D = WaveGANDiscriminator(length, channels, width=cfg.d_width, shuffle=2)
    return G, D


@register_arch("wavegan-nn")
def wavegan_nn(cfg, data_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """``model.arch=wavegan-nn``: WaveGAN whose G upsamples by nearest neighbour + convolution."""
    return wavegan(cfg, data_shape, upsample="nearest")


def unwrap(module: nn.Module) -> nn.Module:
    """The plain module inside a DistributedDataParallel and/or torch.compile wrapper."""
    while True:
        inner = (
            getattr(module, "module", None)
            if isinstance(module, nn.parallel.DistributedDataParallel)
            else getattr(module, "_orig_mod", None)
        )
        if inner is None:
            return module
        module = inner


def build_gan(cfg, data_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """Build (G, D) for ``cfg.arch`` (a :class:`gankit.config.ModelConfig`) and data of ``data_shape``;
    with ``cfg.spectral_norm`` every layer of D is spectrally normalised."""
    G, D = ARCHS[cfg.arch](cfg, tuple(data_shape))
    if getattr(cfg, "spectral_norm", False):
        apply_spectral_norm(D)
    if getattr(cfg, "minibatch_kernels", 0):
        from gankit.nets.minibatch import add_minibatch_discrimination

        D = add_minibatch_discrimination(D, cfg.minibatch_kernels, cfg.minibatch_kernel_dim)
    return G, D


__all__ = [
    "ARCHS",
    "build_gan",
    "unwrap",
    "register_arch",
    "apply_spectral_norm",
    "ResNetGenerator",
    "ResNetDiscriminator",
    "BEGANGenerator",
    "BEGANDiscriminator",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "MLPGenerator",
    "MLPDiscriminator",
    "default_depth",
]
