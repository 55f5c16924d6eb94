"""Super-resolution (method: superres): SRResNet with a pixel loss, and SRGAN with an adversarial loss beside it.

Ledig et al. 2017. The low-resolution input is made from each high-resolution training crop by antialiased bicubic
downscaling and 8-bit rounding (how the benchmark sets make theirs), so any image dataset trains it:
``bsds500`` photographs (random ``superres.crop`` windows each step) or Fashion-MNIST (7 -> 28, whole images).

One step, for a batch of high-resolution crops x and their downscaled inputs s:

    if superres.adv_weight > 0 (SRGAN):
        D step: descend loss.d(D(x), D(G(s)))                      (any loss of gankit.losses.LOSSES)
    G step: descend content(G(s), x) + adv_weight * loss.g(D(G(s)))

``content`` is the pixel MSE (SRResNet; SRGAN-MSE) or the MSE between fixed features (SRGAN's "VGG loss"; here a
network available offline: the first convolutions of the FID Inception for photographs, the first blocks of the
shipped classifier for 28 x 28 data). With ``adv_weight = 0`` there is no D: that is SRResNet. SRGAN starts from a
trained SRResNet, as in the paper: ``superres.init_g=RUN`` loads that run's G in ``setup``, before the first step.

Scores during training (``eval.eval_every``) are taken on validation crops held out of the training split
(``psnr``, ``ssim`` on the luma channel, ``hf_ratio``: high-frequency energy over the truth's; logged as
``eval_psnr`` ...);
the test sets (Set5, Set14) are scored by :func:`gankit.superres.score_images` only.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn
from pydantic import Field, field_validator

from gankit.config import Section
from gankit.data import DataSpec, TensorData
from gankit.data.photos import random_crops
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.losses.content import feature_mse, mse
from gankit.metrics.image_quality import high_frequency_ratio, psnr, rgb_to_y, shave, ssim
from gankit.metrics.scoring import register_direction
from gankit.methods.registry import register_method
from gankit.nets.modes import eval_mode
from gankit.nets.srresnet import SRDiscriminator, SRResNet, downscale_bicubic, upscale_bicubic
from gankit.previews import Preview


class SuperResConfig(Section):
    """Super-resolution (method: superres); ``adv_weight`` 0 is SRResNet, > 0 SRGAN."""

    scale: int = Field(4, ge=2)  # upscaling factor, a power of two
    crop: int = Field(96, ge=8)  # high-resolution training crop (images no larger are taken whole)
    blocks: int = Field(16, ge=1)  # G's residual blocks (paper: 16)
    width: int = Field(64, gt=0)  # G's channels (paper: 64)
    bicubic_skip: bool = True  # G adds the bicubic upscaling to its output (nets/srresnet.py says why)
    content: Literal["mse", "features"] = "mse"
    features: Literal["auto", "inception", "classifier"] = "auto"  # auto: the classifier for 28 x 28 data
    feature_weight: float = Field(1.0, gt=0)  # scale of the feature MSE (it is not in pixel units)
    adv_weight: float = Field(0.0, ge=0)  # weight of the adversarial term in G's loss (paper: 1e-3); 0: no D
    loss: str = "non-saturating"  # the adversarial loss, a name in gankit.losses.LOSSES
    d_width: int = Field(64, gt=0)  # D's first channels (paper: 64)
    lr: float = Field(1e-4, gt=0)  # Adam, both players (paper: 1e-4)
    betas: tuple[float, float] = (0.9, 0.999)
    init_g: str | None = None  # a superres run directory whose G starts this run (SRGAN from SRResNet)
    val_size: int = Field(32, ge=1)  # training images held out for validation scores

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, v: str) -> str:
        if v not in LOSSES or LOSSES[v].autoencoder:
            known = ", ".join(k for k in LOSSES if not LOSSES[k].autoencoder)
            raise ValueError(f"unknown or unsupported loss '{v}' (known: {known})")
        return v

    @field_validator("scale")
    @classmethod
    def _power_of_two(cls, v: int) -> int:
        if v & (v - 1):
            raise ValueError(f"scale {v} is not a power of two")
        return v


def content_network(name: str, channels: int) -> torch.nn.Module:
    """A frozen feature network for the content loss: ``inception``: the FID Inception's convolutions up to
    Conv2d_4a (192 maps at about a fifth of the input's size; low-level, like SRGAN's VGG22), on inputs of any size;
    ``classifier``: the shipped Fashion-MNIST classifier's first two conv blocks (28 x 28 gray)."""
    if name == "inception":
        from gankit.metrics.extractors import default_inception_path

        layers = torch.jit.load(str(default_inception_path()), map_location="cpu").net.layers
        net = torch.nn.Sequential(*list(layers.children())[:6])  # Conv2d_1a .. 2b, max pool, 3b, 4a
        prep = (lambda x: x.expand(-1, 3, -1, -1)) if channels == 1 else (lambda x: x)
    else:
        from gankit.metrics.classifier_training import load_classifier, shipped_path

        body: Any = load_classifier(shipped_path("fashion-mnist-classifier"))[0].body
        net = body[:3]  # block(32), pool, block(64): N x 64 x 14 x 14
        prep = (lambda x: x.mean(1, keepdim=True)) if channels == 3 else (lambda x: x)
    net.eval().requires_grad_(False)

    class Phi(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def train(self, mode: bool = True):  # stays in eval mode (batch norm statistics are fixed)
            return super().train(False)

        def forward(self, x):
            return self.net(prep(x))

    return Phi()


class SuperResolution:
    """G (SRResNet) and, for SRGAN, D with their Adam optimizers."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        if spec.kind != "image":
            raise UserError(f"method superres: needs images (C x H x W), and {cfg.data.name} holds {spec.kind}")
        s = self.cfg = cfg.superres
        self.device, self.scale, self.channels = device, s.scale, spec.shape[0]
        self.crop = min(s.crop, *spec.shape[1:])
        if self.crop % s.scale:
            raise UserError(f"superres.crop: {self.crop} is not a multiple of superres.scale={s.scale}")
        self.G = SRResNet(self.channels, s.scale, s.width, s.blocks, s.bicubic_skip).to(device)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=s.lr, betas=tuple(s.betas))
        self.modules: dict[str, nn.Module] = {"G": self.G}
        self.optimizers: dict[str, torch.optim.Optimizer] = {"G": self.opt_G}
        if s.adv_weight > 0:
            self.D = SRDiscriminator(self.channels, s.d_width).to(device)
            self.opt_D = torch.optim.Adam(self.D.parameters(), lr=s.lr, betas=tuple(s.betas))
            self.modules["D"], self.optimizers["D"] = self.D, self.opt_D
            self.loss = LOSSES[s.loss]
        self.phi: nn.Module | None = None
        if s.content == "features":
            name = s.features if s.features != "auto" else ("classifier" if spec.shape[1:] == (28, 28) else "inception")
            self.phi = content_network(name, self.channels).to(device)
        self.images_per_step = cfg.train.batch_size
        self.G_train: nn.Module = self.G
        self.D_train: Any = getattr(self, "D", None)  # SRGAN's D (wrapped in setup); None for SRResNet
        self.seed, self.num_preview = cfg.train.seed, min(8, cfg.train.num_samples)
        self.x_val = torch.empty(0)  # the held-out validation crops (setup)

    def _init_g(self, ctx) -> None:
        """Start G from another run's (in setup, so a trained run is rebuilt without the run it started from)."""
        run_dir = self.cfg.init_g
        try:
            self.G.load_state_dict(ctx.module_weights(run_dir, "G", key="superres.init_g"))
        except RuntimeError:
            raise UserError(f"superres.init_g={run_dir}: its G has another shape (blocks, width, scale)") from None

    def setup(self, ctx) -> None:
        """Hold out ``val_size`` training images (the same ones for every seed), stream the rest."""
        train = ctx.data.part("train")
        if len(train) <= self.cfg.val_size:
            raise UserError(f"superres.val_size: {self.cfg.val_size} leaves no training images of {len(train)}")
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(2017))
        val, rest = order[: self.cfg.val_size], order[self.cfg.val_size :]
        ctx.add_part("sr_train", TensorData(train.x[rest], name=train.name))
        self.batches = ctx.stream("sr_train")
        # Validation: the centre crop of each held-out image (fixed, so scores are comparable across steps).
        xv = train.x[val]
        top, left = (xv.shape[-2] - self.crop) // 2, (xv.shape[-1] - self.crop) // 2
        self.x_val = xv[..., top : top + self.crop, left : left + self.crop].to(self.device)
        if self.cfg.init_g:
            self._init_g(ctx)
        self.G_train = ctx.wrap(self.G)
        if hasattr(self, "D"):
            self.D_train = ctx.wrap(self.D)

    def low_res(self, x: torch.Tensor) -> torch.Tensor:
        """The input a benchmark would give for ``x``: bicubic downscaling, rounded to 8 bits."""
        return quantize(downscale_bicubic(x, self.scale))

    def content(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.phi is None:
            return mse(output, target)
        return self.cfg.feature_weight * feature_mse(self.phi, output, target)

    def step(self) -> dict[str, torch.Tensor]:
        x = next(self.batches)["x"]
        x = random_crops(x, self.crop, align=self.scale)[0]  # the global RNG: checkpointed by the loop
        s = self.low_res(x)
        stats: dict[str, torch.Tensor] = {}
        if hasattr(self, "D"):
            with torch.no_grad():
                fake = self.G_train(s)
            loss_D = self.loss.d(self.D_train(x), self.D_train(fake))
            self.opt_D.zero_grad(set_to_none=True)
            loss_D.backward()
            self.opt_D.step()
            stats["d_loss"] = loss_D.detach()
        out = self.G_train(s)
        content = self.content(out, x)
        loss_G = content
        if hasattr(self, "D"):
            self.D.requires_grad_(False)  # D is fixed in G's step
            adv = self.loss.g(self.D(out), None)
            self.D.requires_grad_(True)
            loss_G = content + self.cfg.adv_weight * adv
            stats["g_adv"] = adv.detach()
        self.opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        self.opt_G.step()
        with torch.no_grad():
            stats["train_psnr"] = psnr(out.detach().clamp(-1, 1), x).mean()  # all channels, on the training crop
        return {"content": content.detach(), **stats}

    @torch.no_grad()
    def upscale(self, s: torch.Tensor) -> torch.Tensor:
        """Low-resolution images in [-1, 1] -> the model's upscaled images (eval mode), clamped to [-1, 1]."""
        with eval_mode(self.G):
            return self.G(s.to(self.device)).clamp(-1, 1)

    def preview(self) -> Preview:
        """One row per validation crop: bicubic | model | truth."""
        x = self.x_val[: self.num_preview]
        s = self.low_res(x)
        rows = torch.stack([upscale_bicubic(s, self.scale).clamp(-1, 1), self.upscale(s), x], 1)
        return Preview("images", rows.flatten(0, 1).cpu(), nrow=3, title="bicubic | model | truth")

    def evaluate(self) -> dict[str, float]:
        x = self.x_val
        out = torch.cat([self.upscale(self.low_res(b)) for b in x.split(16)])
        return {k: float(v.mean()) for k, v in sr_scores(quantize(out), x, self.scale).items()}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round [-1, 1] images to the 8-bit grid (what saving a PNG does)."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1


def sr_scores(output: torch.Tensor, truth: torch.Tensor, scale: int) -> dict[str, torch.Tensor]:
    """Per image: PSNR and SSIM on the luma channel with ``scale`` border pixels shaved (Ledig et al.'s convention),
    and the high-frequency energy ratio above the input's Nyquist band (0.5 / scale cycles per pixel)."""
    y_out, y_true = shave(rgb_to_y(output), scale), shave(rgb_to_y(truth), scale)
    return {
        "psnr": psnr(y_out, y_true, data_range=1.0),
        "ssim": ssim(y_out, y_true, data_range=1.0),
        "hf_ratio": high_frequency_ratio(y_out, y_true, cutoff=0.5 / scale),
    }


register_direction("psnr", True)
register_direction("ssim", True)

SMOKE = [
    "data.name=mnist-5k",
    "superres.blocks=1",
    "superres.width=8",
    "superres.d_width=4",
    "superres.adv_weight=1e-3",
    "superres.val_size=16",
    "train.batch_size=8",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
]


def _label(cfg) -> str:
    return "srgan" if cfg.superres.adv_weight > 0 else "srresnet"


@register_method("superres", sections={"superres": SuperResConfig}, smoke=SMOKE, label=_label)
def build(cfg, spec: DataSpec, device: torch.device) -> SuperResolution:
    """SRResNet, or SRGAN when ``superres.adv_weight`` > 0, for the images of ``spec``."""
    return SuperResolution(cfg, spec, device)
