"""The class terms of AC-GAN (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with Auxiliary
Classifier GANs", eq. 1-2), as pure functions of the auxiliary classifier's logits.

The paper's log-likelihood of the correct class, L_C = E[log P(C = c | X_real)] + E[log P(C = c | X_fake)],
is maximised by both players (D: L_S + L_C, G: L_C - L_S); as losses to minimise that is the
cross-entropy -L_C for D, and for G its fake term only (G has no say over the real images).
The adversarial part L_S is any :data:`gankit.losses.LOSSES` pair.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_class_loss(
    real_class_logits: torch.Tensor, y_real: torch.Tensor, fake_class_logits: torch.Tensor, y_fake: torch.Tensor
) -> torch.Tensor:
    """-L_C = CE(y_real | x_real) + CE(y_fake | G(z, y_fake)); 2 log K at all-zero logits.

    Args:
        real_class_logits, fake_class_logits: the auxiliary classifier's logits (N x K) on a real and a generated
            minibatch.
        y_real: the real images' labels (N,); y_fake: the labels G was asked for (N,).
    """
    return F.cross_entropy(real_class_logits, y_real) + F.cross_entropy(fake_class_logits, y_fake)


def g_class_loss(fake_class_logits: torch.Tensor, y_fake: torch.Tensor) -> torch.Tensor:
    """G's part of -L_C: CE(y_fake | G(z, y_fake)), generated images classified as the class asked for;
    log K at all-zero logits."""
    return F.cross_entropy(fake_class_logits, y_fake)
