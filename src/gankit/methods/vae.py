"""The VAE baseline (Kingma & Welling 2014), trained by the same loop, run directory, checkpoints
and CLI as the GANs, and sampled behind the same ``sample(z)`` interface, so it sits in the same tables.

One step: encode a minibatch to q(z|x) = N(mu, exp(logvar)), draw z by the reparameterisation trick,
decode, and descend the negative ELBO = reconstruction + beta * KL (:mod:`gankit.losses.vae`).
Sampling decodes z ~ N(0, I) to the decoder's *mean* image: for Bernoulli pixels
E[x] = 2 sigmoid(a) - 1 = tanh(a / 2) in [-1, 1].
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field

from gankit.config import Section
from gankit.errors import UserError
from gankit.data import DataSpec
from gankit.losses.vae import bernoulli_nll, gaussian_nll, kl_normal, reparameterise
from gankit.methods.gan_config import ModelConfig, OptimConfig
from gankit.methods.registry import register_method
from gankit.metrics.scoring import GeneratorScorer
from gankit.nets.modes import eval_mode
from gankit.nets.vae import build_vae
from gankit.previews import Preview, samples_preview


class VAEConfig(Section):
    """The VAE baseline (method: vae); its latent size is model.z_dim and it trains with optim.g_lr."""

    arch: Literal["conv", "mlp"] = "conv"  # encoder/decoder family
    width: int = Field(32, gt=0)  # conv: channels at full resolution; mlp: hidden units
    recon: Literal["bernoulli", "gaussian"] = "bernoulli"  # -log p(x|z): cross-entropy or squared error
    sigma: float = Field(0.1, gt=0)  # the decoder's std for recon=gaussian
    beta: float = Field(1.0, ge=0)  # weight of the KL term (1: the ELBO)


class VAE:
    """Encoder and decoder with one Adam optimizer over both (``optim.g_lr``, ``optim.betas``)."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        data_shape = spec.shape
        if spec.kind != "image":
            raise UserError(
                f"method vae: the VAE models images (C x H x W), and {cfg.data.name} holds {spec.kind} "
                f"of shape {data_shape}"
            )
        v = cfg.vae
        self.device, self.z_dim = device, cfg.model.z_dim
        self.recon, self.sigma, self.beta = v.recon, v.sigma, v.beta
        self.encoder, self.decoder = (m.to(device) for m in build_vae(v.arch, self.z_dim, data_shape, v.width))
        params = list(self.encoder.parameters()) + list(self.decoder.parameters())
        self.opt = torch.optim.Adam(params, lr=cfg.optim.g_lr, betas=tuple(cfg.optim.betas))
        self.modules = {"encoder": self.encoder, "decoder": self.decoder}
        self.optimizers = {"vae": self.opt}
        self.images_per_step = cfg.train.batch_size
        self.encoder_train, self.decoder_train = self.encoder, self.decoder  # until setup() wraps them
        self.z_preview = torch.randn(
            cfg.train.num_samples, self.z_dim, generator=torch.Generator().manual_seed(cfg.train.seed + 1_000_003)
        )
        self.scorer = GeneratorScorer.from_config(cfg)

    def setup(self, ctx) -> None:
        """One stream of training batches; the encoder and decoder train DDP-wrapped (and compiled) when asked.
        fp16 is not supported for the VAE."""
        self.batches = ctx.stream("train")
        enc, dec = (
            (torch.compile(self.encoder), torch.compile(self.decoder)) if ctx.compile else (self.encoder, self.decoder)
        )
        self.encoder_train, self.decoder_train = ctx.wrap(enc), ctx.wrap(dec)

    def mean_image(self, out: torch.Tensor) -> torch.Tensor:
        """The decoder's output as the mean image in [-1, 1]."""
        return torch.tanh(out / 2) if self.recon == "bernoulli" else out.clamp(-1.0, 1.0)

    def nll(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return bernoulli_nll(out, x) if self.recon == "bernoulli" else gaussian_nll(out, x, self.sigma)

    def step(self) -> dict[str, torch.Tensor]:
        x = next(self.batches)["x"]
        mu, logvar = self.encoder_train(x)
        out = self.decoder_train(reparameterise(mu, logvar))
        recon, kl = self.nll(out, x), kl_normal(mu, logvar)
        loss = recon + self.beta * kl  # the negative ELBO (beta = 1), in nats per image
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.detach(), "recon": recon.detach(), "kl": kl.detach()}

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's mean image for z, differentiable in z (inversion, inpainting)."""
        with eval_mode(self.decoder):  # batch norm uses running statistics
            return self.mean_image(self.decoder(z.to(self.device)))

    @torch.no_grad()
    def sample(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(z)

    def preview(self) -> Preview:
        return samples_preview(self.sample(self.z_preview))

    def evaluate(self) -> dict[str, float]:
        return self.scorer(self.sample, self.z_dim)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Mean reconstructions of ``x`` through the posterior means (eval mode)."""
        with eval_mode(self.encoder, self.decoder):
            return self.mean_image(self.decoder(self.encoder(x.to(self.device))[0]))

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


SMOKE = [
    "data.name=mnist-5k",
    "vae.width=8",
    "model.z_dim=8",
    "train.batch_size=16",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
]


@register_method("vae", sections={"model": ModelConfig, "vae": VAEConfig, "optim": OptimConfig}, smoke=SMOKE)
def build(cfg, spec: DataSpec, device: torch.device) -> VAE:
    """The VAE of a run config (``method: vae``) for data of ``spec``."""
    return VAE(cfg, spec, device)
