"""Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders"), the
lectures' *fully visible belief net*: an explicit, tractable density

    p(x) = prod_{i=1}^{D} p(x_i | x_1, ..., x_{i-1})          (pixels in raster order)

trained by maximum likelihood: one step descends the exact negative log-likelihood of a minibatch, in nats
per image. Its likelihood on test images is exact (:meth:`PixelCNN.nll`), and its samples cost D forward
passes, one per pixel ("O(n) sample generation cost"), against one for a GAN or a VAE.

Two likelihoods (``pixelcnn.likelihood``): ``bernoulli`` for binarised images (``data.binarize``; one logit
per pixel) and ``categorical`` for 8-bit images (a 256-way softmax per pixel, the paper's choice).

A PixelCNN has no latent code ("generation not controlled by a latent code"); to fit gankit's generator
protocol (``gankit sample``, ``evaluate``) its ``z`` is the sampling noise itself: z ~ N(0, I) with one entry
per pixel, and pixel i takes the value at which its conditional CDF crosses Phi(z_i) (inverse-CDF sampling),
so z ~ N(0, I) gives exact samples and a seed gives the same images. ``decode`` is not differentiable in z.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from pydantic import Field
from tqdm import tqdm

from gankit.config import Section
from gankit.data import DataSpec
from gankit.errors import UserError
from gankit.losses.likelihood import bernoulli_nll_per_image, categorical_nll_per_image
from gankit.methods.registry import register_method
from gankit.metrics.scoring import GeneratorScorer
from gankit.nets.modes import eval_mode
from gankit.nets.pixelcnn import GatedPixelCNN
from gankit.previews import Preview, samples_preview


class PixelCNNConfig(Section):
    """``pixelcnn:`` the gated PixelCNN's likelihood, size and optimiser (method: pixelcnn)."""

    likelihood: Literal["bernoulli", "categorical"] = "bernoulli"  # binarised images, or 8-bit (256 levels)
    width: int = Field(32, gt=0)  # channels of the vertical and horizontal stacks (the paper's p)
    layers: int = Field(7, gt=0)  # gated layers; the first is masked with mask A
    kernel: int = Field(3, gt=0)  # kernel size after the first layer (odd)
    first_kernel: int = Field(7, gt=0)  # the first layer's kernel size (odd)
    lr: float = Field(1e-3, gt=0)  # Adam
    grad_clip: float | None = Field(1.0, gt=0)  # max gradient norm (None: off)


def _check(cfg) -> None:
    p = cfg.pixelcnn
    if p.kernel % 2 == 0 or p.first_kernel % 2 == 0:
        raise ValueError(f"config key 'pixelcnn.kernel': kernel sizes must be odd, got {p.kernel}, {p.first_kernel}")
    if p.likelihood == "bernoulli" and cfg.data.binarize is None:
        raise ValueError(
            "config key 'data.binarize': pixelcnn.likelihood=bernoulli models binary pixels; "
            "set data.binarize=stochastic (or threshold), or pixelcnn.likelihood=categorical"
        )


def to_levels(x: torch.Tensor, levels: int) -> torch.Tensor:
    """Images in [-1, 1] -> integer targets: {0, 1} for binary images (levels = 1, x in {-1, 1}), {0 .. 255}
    for 8-bit ones (gankit reads uint8 g as g / 127.5 - 1, so the rounding is exact)."""
    if levels == 1:
        return (x > 0).long()
    return ((x + 1) * 127.5).round().clamp(0, 255).long()


def from_levels(k: torch.Tensor, levels: int) -> torch.Tensor:
    """Integer levels -> images in [-1, 1] (inverse of :func:`to_levels`)."""
    return k.float() * 2 - 1 if levels == 1 else k.float() / 127.5 - 1


def nll_per_image(net, x: torch.Tensor, levels: int) -> torch.Tensor:
    """Exact -log p(x) in nats of each image under a PixelCNN ``net`` with ``levels`` logits per pixel: one
    forward pass (the masks give every pixel its conditional at once). x: N x 1 x H x W in [-1, 1]."""
    logits = net(x)  # [N, levels, H, W]
    target = to_levels(x, levels)
    if levels == 1:
        return bernoulli_nll_per_image(logits, target)
    return categorical_nll_per_image(logits, target[:, 0])


@torch.no_grad()
def sample_pixels(net, z: torch.Tensor, shape: tuple[int, ...], progress: bool = False) -> torch.Tensor:
    """Images drawn pixel by pixel in raster order: D = H x W passes of the net. Pixel i takes the smallest level
    whose conditional CDF reaches Phi(z_i), so z ~ N(0, I) (N x D) gives exact samples of the model.

    A :class:`GatedPixelCNN` runs its vertical stack once per row and only the one-row horizontal stack per
    pixel (:meth:`GatedPixelCNN.row_terms`): the same conditionals as a whole forward pass, for a fraction of
    the cost. Any other ``net`` (x -> N x levels x H x W logits, with ``levels``) runs whole per pixel.
    """
    _, h, w = shape
    u = 0.5 * (1 + torch.erf(z.view(len(z), h, w) / math.sqrt(2)))  # Phi(z) ~ U(0, 1), one per pixel
    x = torch.zeros(len(z), *shape, device=z.device)
    rows = hasattr(net, "row_terms")
    bar = tqdm(total=h * w, desc="PixelCNN sampling", unit="px", disable=not progress, leave=False)
    for r in range(h):
        terms = net.row_terms(x, r) if rows else None  # rows < r are final: their vertical stack is too
        for c in range(w):
            # [N, levels]: only pixels before (r, c) entered it
            logits = net.row_logits(x[:, :, r : r + 1], terms)[:, :, 0, c] if rows else net(x)[:, :, r, c]
            if net.levels == 1:
                level = (u[:, r, c] > 1 - torch.sigmoid(logits[:, 0])).long()  # 1 when u lands in the top p
            else:
                cdf = logits.softmax(1).cumsum(1)
                level = torch.searchsorted(cdf, u[:, r, c, None].contiguous()).clamp(max=net.levels - 1)[:, 0]
            x[:, 0, r, c] = from_levels(level, net.levels)
            bar.update()
    bar.close()
    return x


class PixelCNN:
    """A gated PixelCNN trained by maximum likelihood, with the generator protocol (see the module docstring)."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        if spec.kind != "image" or spec.shape[0] != 1:
            raise UserError(
                f"method pixelcnn: models grey images (1 x H x W), and {cfg.data.name} holds {spec.kind} "
                f"of shape {spec.shape} (set data.channels=1 for RGB data)"
            )
        p = cfg.pixelcnn
        self.device, self.shape = device, tuple(spec.shape)
        self.levels = 1 if p.likelihood == "bernoulli" else 256
        self.net = GatedPixelCNN(self.levels, p.width, p.layers, p.kernel, p.first_kernel).to(device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=p.lr)
        self.grad_clip = p.grad_clip
        self.modules = {"net": self.net}
        self.optimizers = {"pixelcnn": self.opt}
        self.images_per_step = cfg.train.batch_size
        self.z_dim = math.prod(self.shape)  # one noise value per pixel (inverse-CDF sampling)
        self.dims = self.z_dim
        self.progress = True  # a progress bar while sampling; training previews turn it off (setup)
        self.net_train = self.net
        g = torch.Generator().manual_seed(cfg.train.seed + 1_000_003)
        self.z_preview = torch.randn(cfg.train.num_samples, self.z_dim, generator=g)
        self.scorer = GeneratorScorer.from_config(cfg)

    def setup(self, ctx) -> None:
        """One stream of training batches; the network trains DDP-wrapped (and compiled) when asked."""
        self.batches = ctx.stream("train")
        self.net_train = ctx.wrap(torch.compile(self.net) if ctx.compile else self.net)
        self.progress = False

    def step(self) -> dict[str, torch.Tensor]:
        x = next(self.batches)["x"]
        if self.levels == 1 and not bool(((x == 1) | (x == -1)).all()):
            raise UserError("method pixelcnn: likelihood=bernoulli needs binary pixels (set data.binarize)")
        nll = nll_per_image(self.net_train, x, self.levels).mean()  # exact -log p(x), nats per image
        self.opt.zero_grad(set_to_none=True)
        nll.backward()
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.grad_clip)
        self.opt.step()
        nll = nll.detach()
        return {"nll": nll, "bits_per_dim": nll / (self.dims * math.log(2))}

    @torch.no_grad()
    def nll(self, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """Exact -log p(x) in nats of each image of ``x`` (N x 1 x H x W in [-1, 1]), in eval mode."""
        with eval_mode(self.net):
            nll = [nll_per_image(self.net, xb.to(self.device), self.levels).cpu() for xb in x.split(batch_size)]
            return torch.cat(nll)

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Images for noise z (N x D): pixel-by-pixel sampling (not differentiable in z)."""
        with eval_mode(self.net):
            return sample_pixels(self.net, z.to(self.device), self.shape, progress=self.progress)

    def sample(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(z)

    def preview(self) -> Preview:
        return samples_preview(self.sample(self.z_preview))

    def evaluate(self) -> dict[str, float]:
        return self.scorer(self.sample, self.z_dim)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


SMOKE = [
    "data.name=mnist-5k",
    "data.binarize=threshold",
    "pixelcnn.width=8",
    "pixelcnn.layers=2",
    "pixelcnn.first_kernel=3",
    "train.batch_size=16",
    "train.num_samples=2",  # a preview costs 784 forward passes, one per pixel: only the final one is drawn
    "train.log_every=2",
    "train.sample_every=1000",
    "train.checkpoint_every=4",
]


@register_method("pixelcnn", sections={"pixelcnn": PixelCNNConfig}, check=_check, smoke=SMOKE)
def build(cfg, spec: DataSpec, device: torch.device) -> PixelCNN:
    """The gated PixelCNN of a run config (``method: pixelcnn``) for grey images of ``spec``."""
    return PixelCNN(cfg, spec, device)
