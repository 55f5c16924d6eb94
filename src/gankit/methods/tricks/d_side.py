"""The tricks on D's side: what D sees (DiffAugment, instance noise), its loss (label smoothing), the terms added to
it (gradient penalty, consistency) and what follows its step (weight clipping, the Wasserstein estimate, BEGAN's k_t).
Registered in this file's order, which is the order their hooks run in (see :mod:`gankit.methods.tricks`).
"""

from __future__ import annotations

from typing import Callable

import torch

from gankit.errors import UserError
from gankit.losses.penalties import PENALTIES, Penalty, consistency_penalty, cr_augment
from gankit.losses.wgan import wasserstein_estimate
from gankit.methods.tricks.base import Trick, register_trick
from gankit.nets.augment import diff_augment
from gankit.nets.vbn import ReferenceBatch, convert_batchnorm

# ---------------------------------------------------------------------------- D's input


@register_trick("diffaugment")
class DiffAugment(Trick):
    """DiffAugment (Zhao et al. 2020): the same random differentiable augmentations on reals and fakes."""

    def __init__(self, policy: str):
        self.policy = policy

    def d_input(self, x):
        return diff_augment(x, self.policy)


@register_trick("instance_noise")
class InstanceNoise(Trick):
    """Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017): Gaussian noise on D's inputs, its std
    annealed as sigma_0 (1 - t / T), clipped at 0, over T generator steps (default: the run's length)."""

    def __init__(self, std: float, steps: int):
        self.std0, self.steps = std, steps
        self.step = 0  # G steps taken: the clock of the schedule

    @classmethod
    def from_config(cls, cfg, loss, G, D, device):
        g = cfg.gan
        return cls(g.instance_noise, g.instance_noise_steps or cfg.train.steps) if g.instance_noise > 0 else None

    def std(self) -> float:
        return self.std0 * max(0.0, 1.0 - self.step / self.steps)

    def d_input(self, x):
        std = self.std()
        return x + std * torch.randn_like(x) if std > 0 else x  # no draw once annealed away

    def after_g_step(self, G):
        self.step += 1

    def state_dict(self):
        return {"step": self.step}

    def load_state_dict(self, state):
        self.step = int(state["step"])


# ---------------------------------------------------------------------------- D's loss


@register_trick("label_smoothing")
class LabelSmoothing(Trick):
    """One-sided label smoothing (Salimans et al. 2016, Sec. 3.4): D's real target is 1 - s, fakes stay at 0."""

    def __init__(self, smoothing: float):
        self.smoothing = smoothing

    def d_loss_kwargs(self):
        return {"real_label": 1.0 - self.smoothing}


@register_trick("penalty")
class GradientPenalty(Trick):
    """A gradient penalty on D from :data:`gankit.losses.penalties.PENALTIES` (WGAN-GP, DRAGAN, R1), weighted."""

    def __init__(self, penalty: Penalty, weight: float):
        self.penalty, self.weight = penalty, weight

    @classmethod
    def from_config(cls, cfg, loss, G, D, device):
        name = cfg.gan.penalty
        if name == "none":
            return None
        if name not in PENALTIES:
            raise UserError(f"gan.penalty: unknown penalty '{name}' (known: none, {', '.join(PENALTIES)})")
        return cls(PENALTIES[name], cfg.gan.penalty_weight)

    def d_regulariser(self, D, x_real, x_fake):
        pen = self.penalty(D, x_real, x_fake)
        return self.weight * pen, {"penalty": pen.detach()}


@register_trick("consistency")
class Consistency(Trick):
    """Consistency regularisation (Zhang, Zhang, Odena & Lee 2020, "Consistency Regularization for Generative
    Adversarial Networks", Algorithm 1): lambda E||D(x) - D(T(x))||^2 on real images, T a semantics-preserving
    augmentation (:func:`gankit.losses.penalties.cr_augment`), so that D's output cannot hinge on what the
    augmentation changes. The paper: lambda = 10. D is called as given (its DDP wrapper in d_step), so its
    gradients synchronise across processes."""

    def __init__(self, weight: float, augment: Callable[[torch.Tensor], torch.Tensor] = cr_augment):
        self.weight, self.augment = weight, augment

    def d_regulariser(self, D, x_real, x_fake):
        if x_real.dim() != 4:
            shape = tuple(x_real.shape[1:])
            raise UserError(f"gan.consistency: needs images (N x C x H x W); these samples have shape {shape}")
        cr = consistency_penalty(D, x_real, self.augment)
        return self.weight * cr, {"consistency": cr.detach()}


# ---------------------------------------------------------------------------- after D's step


@register_trick("clip_weights")
class WeightClipping(Trick):
    """WGAN (Arjovsky et al. 2017): clip D's weights to [-c, c] after each step, keeping the critic in a compact
    set of K-Lipschitz functions."""

    def __init__(self, clip: float):
        self.clip = clip

    @torch.no_grad()
    def after_d_step(self, D, real_out, fake_out):
        for p in D.parameters():
            p.clamp_(-self.clip, self.clip)
        return {}


@register_trick("wasserstein_estimate")
class WassersteinEstimate(Trick):
    """A critic's (``loss.critic``) estimate E f(x) - E f(G(z)) of the Wasserstein distance (Arjovsky et al.
    2017), logged each step."""

    @classmethod
    def from_config(cls, cfg, loss, G, D, device):
        return cls() if loss.critic else None

    def after_d_step(self, D, real_out, fake_out):
        return {"wasserstein_estimate": wasserstein_estimate(real_out, fake_out)}


@register_trick("began")
class BEGANEquilibrium(Trick):
    """BEGAN's equilibrium control k_t (Berthelot et al. 2017, Sec. 3.4), for a loss with a ``control``
    (:class:`gankit.losses.began.BEGANControl`): k_t goes to D's loss, and moves after each D step."""

    def __init__(self, control):
        self.control = control

    @classmethod
    def from_config(cls, cfg, loss, G, D, device):
        if loss.control is None:
            return None
        return cls(loss.control(cfg.gan.began_gamma, cfg.gan.began_lambda_k, device))

    def d_loss_kwargs(self):
        return self.control.d_loss_kwargs()

    @torch.no_grad()
    def after_d_step(self, D, real_out, fake_out):
        return self.control.update(real_out, fake_out)

    def state_dict(self):
        return self.control.state_dict()

    def load_state_dict(self, state):
        self.control.load_state_dict(state)


# ---------------------------------------------------------------------------- D's normalisation


@register_trick("virtual_batchnorm")
class VirtualBatchNormTrick(Trick):
    """Virtual batch norm (Salimans et al. 2016, Sec. 3.4; :mod:`gankit.nets.vbn`): D's batch norms, converted in
    place when the trick is built (their weight and bias stay the Parameters D's optimizer trains), normalise
    each example with the statistics of a fixed reference batch plus the example itself, so D's output for a
    sample no longer depends on the rest of its batch and D cannot tell an all-real from an all-fake batch by
    its statistics. The reference batch is the first batch D is shown, the first real batch (``d_step`` passes
    the real batch through ``d_input`` first, and a run starts with a D step), as the tricks before this one
    leave it (noised or augmented once, when instance noise or DiffAugment is on); it is checkpointed."""

    def __init__(self, D: torch.nn.Module, device: torch.device, arch: str = ""):
        if not convert_batchnorm(D):
            raise UserError(f"gan.virtual_batchnorm: D has no batch norm layer to convert (model.arch={arch})")
        self.device = device
        self.reference = ReferenceBatch(D)  # runs the reference batch through D before each of D's forwards

    @classmethod
    def from_config(cls, cfg, loss, G, D, device):
        return cls(D, device, cfg.model.arch) if cfg.gan.virtual_batchnorm else None

    def d_input(self, x):
        if self.reference.x is None:
            ref = x.detach().clone()
            if torch.distributed.is_available() and torch.distributed.is_initialized():
                torch.distributed.broadcast(ref, src=0)  # one reference for all ranks: rank 0's, the checkpointed one
            self.reference.x = ref
        return x

    def state_dict(self):
        return {} if self.reference.x is None else {"reference": self.reference.x}

    def load_state_dict(self, state):
        if "reference" in state:
            self.reference.x = state["reference"].to(self.device)
