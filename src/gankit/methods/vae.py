"""The VAE baseline (Kingma & Welling 2014), trained by the same loop, run directory, checkpoints
and CLI as the GANs, and sampled behind the same ``sample(z)`` interface, so it sits in the same tables.

One step: encode a minibatch to q(z|x) = N(mu, exp(logvar)), draw z by the reparameterisation trick,
decode, and descend the negative ELBO = reconstruction + beta * KL (:mod:`gankit.losses.vae`).
Sampling decodes z ~ N(0, I) to the decoder's *mean* image: for Bernoulli pixels
E[x] = 2 sigmoid(a) - 1 = tanh(a / 2) in [-1, 1].
"""

from __future__ import annotations

from typing import Any, Iterator

import torch

from gankit.losses.vae import bernoulli_nll, gaussian_nll, kl_normal, reparameterise
from gankit.methods import register_method
from gankit.nets.vae import build_vae


class VAE:
    """Encoder and decoder with one Adam optimizer over both (``optim.g_lr``, ``optim.betas``)."""

    def __init__(self, cfg, data_shape: tuple[int, ...], device: torch.device):
        if len(data_shape) != 3:
            raise ValueError(f"the VAE models images (C x H x W), got items of shape {data_shape}")
        v = cfg.vae
        self.device, self.z_dim = device, cfg.model.z_dim
        self.recon, self.sigma, self.beta = v.recon, v.sigma, v.beta
        self.encoder, self.decoder = (m.to(device) for m in build_vae(v.arch, self.z_dim, data_shape, v.width))
        params = list(self.encoder.parameters()) + list(self.decoder.parameters())
        self.opt = torch.optim.Adam(params, lr=cfg.optim.g_lr, betas=tuple(cfg.optim.betas))
        self.modules = {"encoder": self.encoder, "decoder": self.decoder}
        self.optimizers = {"vae": self.opt}
        self.setup_training()

    def setup_training(self, rank: int = 0, world_size: int = 1, wrap=lambda m: m, compile: bool = False, fp16: bool = False) -> None:
        """The modules that train: DDP-wrapped (and compiled) when asked; fp16 is not supported for the VAE."""
        enc, dec = (torch.compile(self.encoder), torch.compile(self.decoder)) if compile else (self.encoder, self.decoder)
        self.encoder_train, self.decoder_train = wrap(enc), wrap(dec)

    def mean_image(self, out: torch.Tensor) -> torch.Tensor:
        """The decoder's output as the mean image in [-1, 1]."""
        return torch.tanh(out / 2) if self.recon == "bernoulli" else out.clamp(-1.0, 1.0)

    def nll(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return bernoulli_nll(out, x) if self.recon == "bernoulli" else gaussian_nll(out, x, self.sigma)

    def step(self, batches: Iterator) -> dict[str, torch.Tensor]:
        x, _ = next(batches)
        mu, logvar = self.encoder_train(x)
        out = self.decoder_train(reparameterise(mu, logvar))
        recon, kl = self.nll(out, x), kl_normal(mu, logvar)
        loss = recon + self.beta * kl  # the negative ELBO (beta = 1), in nats per image
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.detach(), "recon": recon.detach(), "kl": kl.detach()}

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's mean image for z, differentiable in z (inversion, inpainting)."""
        was_training = self.decoder.training
        self.decoder.eval()  # batch norm uses running statistics
        try:
            return self.mean_image(self.decoder(z.to(self.device)))
        finally:
            self.decoder.train(was_training)

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        return self.decode(z)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Mean reconstructions of ``x`` through the posterior means (eval mode)."""
        modes = self.encoder.training, self.decoder.training
        self.encoder.eval(), self.decoder.eval()
        out = self.mean_image(self.decoder(self.encoder(x.to(self.device))[0]))
        self.encoder.train(modes[0]), self.decoder.train(modes[1])
        return out

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        pass


@register_method("vae")
def build(cfg, data_shape: tuple[int, ...], device: torch.device) -> VAE:
    return VAE(cfg, data_shape, device)
