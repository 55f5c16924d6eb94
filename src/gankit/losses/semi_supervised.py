"""The losses of the semi-supervised GAN (Salimans et al. 2016, "Improved Techniques for Training GANs",
sections 5 and 3.1), as pure functions of the classifier's logits and features.

D is a K-way classifier with logits l_1..l_K; the (K+1)-th class, "generated", is implicit with its logit
fixed at 0. With Z(x) = sum_k exp l_k(x), the probability that x is real is

    D(x) = Z(x) / (Z(x) + 1) = sigmoid(log Z(x)),     log Z(x) = logsumexp_k l_k(x),

so logsumexp(l) plays the part of an ordinary GAN's D logit (:func:`real_logit`). The classifier's loss is

    L = L_supervised + w * L_unsupervised
    L_supervised   = -E_{x,y ~ labelled} log p(y | x, y < K+1) = cross-entropy of the K logits
    L_unsupervised = -E_{x ~ unlabelled} log D(x) - E_{z} log(1 - D(G(z)))

and G minimises feature matching (section 3.1): ||E_x f(x) - E_z f(G(z))||^2 on an intermediate layer f of D.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def real_logit(class_logits: torch.Tensor) -> torch.Tensor:
    """log Z(x) = logsumexp_k l_k(x): the logit of "real" when the fake class's logit is fixed at 0.

    Args:
        class_logits: D's K logits (N x K).

    Returns:
        (N,) logits; sigmoid of them is D(x) = Z / (Z + 1). log K at all-zero logits.
    """
    return torch.logsumexp(class_logits, dim=1)


def supervised_loss(class_logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """-E log p(y | x, y < K+1): the cross-entropy of the K logits (the fake class plays no part);
    log K at all-zero logits.

    Args:
        class_logits: D's K logits on labelled images (N x K).
        y: their labels (N,).
    """
    return F.cross_entropy(class_logits, y)


def d_unsupervised_loss(unlabelled_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E log D(x) - E log(1 - D(G(z))) with D(x) = Z/(Z+1), written stably with softplus:

        -log D(x)        = -log sigmoid(log Z)  = softplus(-logsumexp(l(x)))
        -log(1 - D(G(z))) = log(Z + 1)           = softplus(logsumexp(l(G(z))))

    At all-zero logits (Z = K) it is log((K+1)/K) + log(K+1).

    Args:
        unlabelled_logits: D's K logits on unlabelled real images (N x K).
        fake_logits: D's K logits on generated images (M x K).
    """
    return F.softplus(-real_logit(unlabelled_logits)).mean() + F.softplus(real_logit(fake_logits)).mean()


def feature_matching_loss(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """||E_x f(x) - E_z f(G(z))||^2 (section 3.1): G matches the mean of D's intermediate features on real
    data instead of maximising D's output; 0 when the two batches' means agree.

    Args:
        real_features: f(x) on real images (N x F), detached by the caller (only G learns from this loss).
        fake_features: f(G(z)) (M x F).
    """
    diff = real_features.flatten(1).mean(0) - fake_features.flatten(1).mean(0)
    return diff.pow(2).sum()


def conditional_entropy(class_logits: torch.Tensor) -> torch.Tensor:
    """-E_x sum_k p(k | x) log p(k | x) over the K classes: low when D is confident on unlabelled images.

    Dai et al. 2017 ("Good Semi-supervised Learning that Requires a Bad GAN", sec. 4) add it to D's loss so that
    the decision boundaries move to low-density regions; log K at all-zero logits.

    Args:
        class_logits: D's K logits on unlabelled images (N x K).
    """
    log_p = F.log_softmax(class_logits, dim=1)
    return -(log_p.exp() * log_p).sum(1).mean()
