"""Spectral normalisation (Miyato et al. 2018, "Spectral Normalization for GANs"): every weight W is
used as W / sigma(W), sigma the largest singular value, estimated by one power iteration per
forward pass (torch.nn.utils.parametrizations.spectral_norm). Each layer is then 1-Lipschitz, and
so is D up to its activations. Convolution kernels are reshaped to (out, in*k*k) matrices, as in the paper.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectrally normalise every linear and convolution layer of ``module`` in place; returns it.

    Call before creating the optimizer: the parametrisation replaces each ``weight`` parameter by
    ``parametrizations.weight.original``.
    """
    for m in list(module.modules()):
        if isinstance(m, _LAYERS):
            spectral_norm(m)
    return module
