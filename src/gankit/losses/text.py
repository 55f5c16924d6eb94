"""The matching-aware discriminator of GAN-CLS (Reed et al. 2016, "Generative Adversarial Text to Image
Synthesis", Algorithm 1), as pure functions of D's logits.

D scores three pairs: a real image with its caption (s_r), a real image with a mismatching caption (s_w),
and a generated image with the caption it was drawn from (s_f). Algorithm 1 ascends

    L_D = log s_r + (log(1 - s_w) + log(1 - s_f)) / 2,

so D learns to reject a real image under the wrong text as well as a fake under the right one: "real" now
means "real and matching". G ascends L_G = log s_f (the non-saturating form), and with GAN-INT (sec. 4.3) also
log D(G(z, t_int), t_int) on interpolated sentence codes t_int = beta t_1 + (1 - beta) t_2.
With D(x) = sigmoid(l): -log sigmoid(l) = softplus(-l) and -log(1 - sigmoid(l)) = softplus(l).

:func:`auxiliary_class` is the auxiliary classification term of AC-GAN (Odena et al. 2017, "Conditional Image
Synthesis with Auxiliary Classifier GANs", eq. 3) as TAC-GAN adds it to a text-conditional GAN (Dash et al.
2017, "TAC-GAN: Text Conditioned Auxiliary Classifier GAN"): a head on D's features names the class of the image,
trained on real images, and G is also asked for images that head puts in the captioned class.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_matching_aware(real_right: torch.Tensor, real_wrong: torch.Tensor, fake_right: torch.Tensor) -> torch.Tensor:
    """-L_D = E[softplus(-l_r)] + (E[softplus(l_w)] + E[softplus(l_f)]) / 2; 2 log 2 at all-zero logits.

    Args:
        real_right: D's logits on real images with their own captions.
        real_wrong: D's logits on real images with mismatching captions.
        fake_right: D's logits on generated images with the captions they were drawn from.
    """
    return F.softplus(-real_right).mean() + (F.softplus(real_wrong).mean() + F.softplus(fake_right).mean()) / 2


def g_matching_aware(fake_right: torch.Tensor) -> torch.Tensor:
    """-L_G = E[softplus(-l_f)] = -E[log D(G(z, t), t)] (non-saturating); log 2 at all-zero logits."""
    return F.softplus(-fake_right).mean()


def auxiliary_class(class_logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """-E[log softmax(c)_y] (cross-entropy of D's class head, logits c: N x K, against classes y); log K at zero
    logits. D minimises it on real images, G on its own images with the captions' classes (AC-GAN's L_C)."""
    return F.cross_entropy(class_logits, y)


def mismatched(tokens: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """For each caption of a batch, another item's caption of a different class where there is one: the
    batch rolled by one, then each caption of the same class swapped for the nearest later one that differs.
    Deterministic: no random numbers, so the training RNG and exact resume are untouched.

    Args:
        tokens: N x L captions; y: their N classes.

    Returns:
        N x L captions, row i from an item of another class than y[i] whenever the batch has two classes.
    """
    n = len(y)
    shift = torch.arange(n, device=y.device)[:, None] + torch.arange(1, n, device=y.device)[None, :]  # [N, N-1]
    other = (y[shift % n] != y[:, None]).float()  # [N, N-1]: is the j-th later item of another class
    first = torch.where(other.any(1), other.argmax(1), torch.zeros_like(y))  # first such offset (0: roll by one)
    return tokens[(torch.arange(n, device=y.device) + first + 1) % n]
