"""Plug-and-play sampling (Nguyen et al. 2017, "Plug & Play Generative Networks"): Langevin steps that follow a
denoising autoencoder's estimate of the prior's score and a classifier's gradient toward a class.

A denoising autoencoder r trained to undo Gaussian corruption of scale sigma estimates the score of the data
density: (r(x) - x) / sigma^2 -> grad log p(x) as sigma -> 0 (Alain & Bengio 2014). PPGN's sampler (their eq. 5)
adds a condition's gradient and noise::

    x_{t+1} = x_t + eps1 * (r(x_t) - x_t) + eps2 * grad_x log p(y = c | x_t) + N(0, eps3^2)

eps1 weighs the prior (the 1 / sigma^2 is folded into it), eps2 the class, eps3 the exploration. PPGN ran it in
the feature space of an ImageNet network with a GAN-trained generator as the prior's decoder; here the chain runs
in pixel space on 28 x 28 images with a small convolutional DAE, and the class term uses the logits of the shipped
classifier (:mod:`gankit.nets.classifier`). As in PPGN, the DAE may be trained with an adversarial term beside
the reconstruction loss (``adv_weight``; 0 turns it off) so that r(x) lands on sharper images.

That pixel-space chain (PPGN-x in the paper's terms) fools the classifier more than it draws garments: its final
states are grey, striped images that the classifier assigns to the class but its own DAE's reconstruction does not
(``benchmarks/ppgn.py`` measures it). PPGN's remedy (its PPGN-h and joint variants) is to run the chain in the code
space h of a generator G and read the image as G(h): the class gradient then flows through G and can only move
along images G can draw. :func:`sample_latent_chains` does this with a trained GAN's generator, whose latent z has
a known prior N(0, I): the ideal DAE of that prior gives r(z) - z proportional to grad log p(z) = -z, so the step is

    z_{t+1} = z_t - eps1 * z_t + eps2 * grad_z log p(y = c | G(z_t)) + N(0, eps3^2)

and a chain's sample is G(z_T) (the last step's mean, no noise in pixel space).

A trained DAE lives in a run-like folder: ``dae.safetensors`` with its settings in the file's metadata
(:func:`save_dae`, :func:`load_dae`).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import UserError

DAE_FILE = "dae.safetensors"
# PPGN-h's step sizes and steps for a DCGAN on Fashion-MNIST: benchmarks/ppgn.py's choice on validation images
LATENT_DEFAULTS: dict = {"eps": (0.005, 0.1, 0.1), "steps": 200}


class DAE(nn.Module):
    """Conv encoder-decoder for 1 x 28 x 28 images in [-1, 1]: 28 -> 14 -> 7 -> 14 -> 28, tanh output.

    Args:
        width: channels of the first conv (then 2x); the code is 2*width x 7 x 7.
    """

    def __init__(self, width: int = 32):
        super().__init__()
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), nn.SiLU(),
            nn.Conv2d(w, w, 4, 2, 1), nn.SiLU(),  # 28 -> 14
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.SiLU(),
            nn.Conv2d(2 * w, 2 * w, 4, 2, 1), nn.SiLU(),  # 14 -> 7
        )  # fmt: skip
        self.decoder = nn.Sequential(
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.SiLU(),  # 7 -> 14
            nn.Conv2d(w, w, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(w, w, 4, 2, 1), nn.SiLU(),  # 14 -> 28
            nn.Conv2d(w, 1, 3, padding=1), nn.Tanh(),
        )  # fmt: skip
        self.width = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def _critic(width: int = 32) -> nn.Module:
    """A small discriminator on 28 x 28 images for the DAE's adversarial term (one logit per image)."""
    return nn.Sequential(
        nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),  # 28 -> 14
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),  # 14 -> 7
        nn.Flatten(), nn.Linear(2 * width * 49, 1),
    )  # fmt: skip


@dataclass
class DAEConfig:
    """Training settings of :func:`train_dae` (kept beside the weights).

    sigma: std of the Gaussian corruption (pixels in [-1, 1]); adv_weight: weight of the non-saturating adversarial
    term on reconstructions (0: reconstruction only); steps, batch_size, lr: Adam on the reconstruction loss.
    """

    width: int = 32
    sigma: float = 0.3
    adv_weight: float = 0.01
    steps: int = 2000
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0


def dae_losses(dae: nn.Module, x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> tuple:
    """(mean squared reconstruction error of the clean x from x + N(0, sigma^2), the reconstructions)."""
    noisy = x + sigma * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    r = dae(noisy)
    return F.mse_loss(r, x), r


def train_dae(x: torch.Tensor, cfg: DAEConfig, log_every: int = 0) -> DAE:
    """Train a :class:`DAE` on images x (N x 1 x 28 x 28 in [-1, 1]): reconstruction (+ ``adv_weight`` times the
    non-saturating GAN loss -log D(r(x~)), with D trained by the logistic loss on real x vs r(x~))."""
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    dae = DAE(cfg.width)
    opt = torch.optim.Adam(dae.parameters(), lr=cfg.lr)
    D = _critic() if cfg.adv_weight > 0 else None
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)) if D is not None else None
    t0 = time.perf_counter()
    for step in range(cfg.steps):
        xb = x[torch.randint(len(x), (cfg.batch_size,), generator=g)]
        rec, r = dae_losses(dae, xb, cfg.sigma, g)
        loss = rec
        if D is not None and opt_d is not None:
            # D step first (on detached reconstructions), then the DAE's adversarial term with D fixed.
            d_loss = F.softplus(-D(xb)).mean() + F.softplus(D(r.detach())).mean()  # 2 log 2 at logits 0
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            loss = rec + cfg.adv_weight * F.softplus(-D(r)).mean()  # -log sigmoid(D(r)): non-saturating
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if log_every and (step + 1) % log_every == 0:
            print(f"dae step {step + 1}/{cfg.steps}: recon {rec.item():.4f} ({time.perf_counter() - t0:.0f} s)")
    return dae.eval()


def save_dae(dae: DAE, cfg: DAEConfig, run_dir: str | Path, extra: dict | None = None) -> Path:
    """Write ``RUN/dae.safetensors``; its metadata holds ``cfg`` and ``extra`` (e.g. chosen eps values) as JSON."""
    from safetensors.torch import save_file

    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    meta = {"config": json.dumps(asdict(cfg)), "ppgn": json.dumps(extra or {})}
    save_file({k: v.detach().contiguous() for k, v in dae.state_dict().items()}, str(run / DAE_FILE), metadata=meta)
    return run / DAE_FILE


def load_dae(run_dir: str | Path) -> tuple[DAE, DAEConfig, dict]:
    """(DAE in eval mode, its training config, the extra settings saved with it) from a folder of :func:`save_dae`."""
    from safetensors import SafetensorError, safe_open

    path = Path(run_dir) / DAE_FILE
    if not path.is_file():
        raise UserError(
            f"{path}: no denoising autoencoder here (train one with gankit ppgn --train --run {run_dir}, "
            "or name a GAN run)"
        )
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            state = {k: f.get_tensor(k) for k in f.keys()}
        cfg = DAEConfig(**json.loads(meta["config"]))
    except (SafetensorError, OSError, KeyError, TypeError, ValueError) as e:
        raise UserError(f"{path}: not a gankit DAE file ({e})") from None
    dae = DAE(cfg.width)
    dae.load_state_dict(state)
    return dae.eval(), cfg, json.loads(meta.get("ppgn", "{}"))


def class_log_prob_grad(
    classifier: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, cls: torch.Tensor
) -> torch.Tensor:
    """grad_x log p(y = cls | x) = grad_x log softmax(classifier(x))[cls], per image (the sum's gradient:
    each image's log-probability depends on that image alone). ``classifier`` may be a composition such as
    ``lambda z: clf(G(z))`` (the gradient is then in z)."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        logp = classifier(x).log_softmax(1).gather(1, cls[:, None]).sum()
        (grad,) = torch.autograd.grad(logp, x)
    return grad


def langevin_step(
    dae: nn.Module,
    classifier: nn.Module,
    x: torch.Tensor,
    cls: torch.Tensor,
    eps1: float,
    eps2: float,
    eps3: float,
    generator: torch.Generator | None = None,
    clamp: bool = True,
) -> torch.Tensor:
    """One PPGN step: x + eps1 (r(x) - x) + eps2 grad log p(y=cls | x) + N(0, eps3^2); clamped to [-1, 1] when
    ``clamp`` (the DAE and classifier only saw images in that range)."""
    with torch.no_grad():
        prior = dae(x) - x  # ~ sigma^2 grad log p(x) (Alain & Bengio 2014)
    cond = class_log_prob_grad(classifier, x, cls) if eps2 else torch.zeros_like(x)
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype) if eps3 else torch.zeros_like(x)
    out = x + eps1 * prior + eps2 * cond + eps3 * noise
    return out.clamp(-1.0, 1.0) if clamp else out


def sample_chains(
    dae: nn.Module,
    classifier: nn.Module,
    cls: torch.Tensor,
    steps: int,
    eps: tuple[float, float, float],
    x0: torch.Tensor | None = None,
    seed: int = 0,
    record: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run one chain per entry of ``cls`` for ``steps`` steps from ``x0`` (default: uniform noise in [-1, 1]).

    Returns:
        (final images N x 1 x 28 x 28, the chains at ``record`` evenly spaced steps, N x record x 1 x 28 x 28,
        the first column being x0; an empty tensor when ``record`` is 0).
    """
    g = torch.Generator().manual_seed(seed)
    n = len(cls)
    x = torch.rand((n, 1, 28, 28), generator=g) * 2 - 1 if x0 is None else x0.clone()
    keep = set(round(i * steps / (record - 1)) for i in range(record)) if record > 1 else set()
    frames = [x] if 0 in keep else []
    for t in range(1, steps + 1):
        x = langevin_step(dae, classifier, x, cls, *eps, generator=g)
        if t in keep:
            frames.append(x)
    return x, (torch.stack(frames, 1) if frames else torch.empty(0))


def latent_langevin_step(
    G: Callable[[torch.Tensor], torch.Tensor],
    classifier: nn.Module,
    z: torch.Tensor,
    cls: torch.Tensor,
    eps1: float,
    eps2: float,
    eps3: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One PPGN-h step in G's latent space: z - eps1 z + eps2 grad_z log p(y=cls | G(z)) + N(0, eps3^2).

    -z is the score of the prior N(0, I), what an ideal DAE of that prior estimates (up to the factor folded into
    eps1); the class gradient flows through G. eps3 = sqrt(2 eps1) would leave N(0, I) invariant without the class
    term (Langevin dynamics with step 2 eps1)."""
    cond = class_log_prob_grad(lambda h: classifier(G(h)), z, cls) if eps2 else torch.zeros_like(z)
    noise = torch.randn(z.shape, generator=generator, dtype=z.dtype) if eps3 else torch.zeros_like(z)
    return z - eps1 * z + eps2 * cond + eps3 * noise


def sample_latent_chains(
    G: Callable[[torch.Tensor], torch.Tensor],
    classifier: nn.Module,
    cls: torch.Tensor,
    z_dim: int,
    steps: int,
    eps: tuple[float, float, float],
    z0: torch.Tensor | None = None,
    seed: int = 0,
    record: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run one chain per entry of ``cls`` in G's latent space from ``z0`` (default: z ~ N(0, I), a GAN sample).

    Args:
        G: z (N x z_dim) -> images, differentiable in z (e.g. a GAN run's ``decode``).

    Returns:
        (final images G(z_T), the images G(z_t) at ``record`` evenly spaced steps, N x record x C x H x W, the first
        column being G(z_0); an empty tensor when ``record`` is 0).
    """
    g = torch.Generator().manual_seed(seed)
    z = torch.randn((len(cls), z_dim), generator=g) if z0 is None else z0.clone()
    keep = set(round(i * steps / (record - 1)) for i in range(record)) if record > 1 else set()
    frames = []
    for t in range(steps + 1):
        if t in keep:
            with torch.no_grad():
                frames.append(G(z))
        if t < steps:
            z = latent_langevin_step(G, classifier, z, cls, *eps, generator=g)
    with torch.no_grad():
        x = G(z)
    return x, (torch.stack(frames, 1) if frames else torch.empty(0))


def run_generator(run_dir: str | Path) -> tuple[Callable[[torch.Tensor], torch.Tensor], int]:
    """(G, z_dim) of a trained generator run (its ``decode``, weights frozen) for :func:`sample_latent_chains`;
    a :class:`UserError` for a run without a generator or one not differentiable in z (``pixelcnn``)."""
    from gankit.train.restore import load_generator

    method, cfg = load_generator(run_dir)
    if cfg.method == "pixelcnn":
        raise UserError(f"{run_dir}: a pixelcnn run samples pixel by pixel, not differentiably in z (use a GAN run)")
    for module in method.modules.values():
        for p in module.parameters():
            p.requires_grad_(False)  # gradients flow to z only
    return method.decode, method.z_dim


def shipped_classifier(name: str = "fashion-mnist-classifier") -> tuple[nn.Module, list[str]]:
    """The shipped classifier (eval mode, frozen weights) and its class names; its logits stay differentiable in x."""
    from gankit.metrics.extractors import ClassifierExtractor

    ex = ClassifierExtractor(name)
    net = ex.net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net, list(ex.classes)


def class_index(classes: list[str], cls: int | str) -> int:
    """The index of ``cls`` (an index or a name such as ``sneaker``) among ``classes``; a :class:`UserError` if none."""
    from gankit.api import _class_index

    return _class_index(tuple(classes), cls, "fashion-mnist classifier")
