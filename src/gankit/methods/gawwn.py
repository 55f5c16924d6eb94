"""What and where to draw: a GAN conditioned on a class and a bounding box through spatial masks (after the
Generative Adversarial What-Where Network of Reed et al. 2016, "Learning What and Where to Draw", with a class
in place of their caption), on :mod:`gankit.data.boxes` (garments placed on a 64 x 64 canvas):

    for each training iteration:
        draw a minibatch of images x with their classes y and boxes b; draw z ~ N(0, I)
        update D by descending J_D(D(x, y, b), D(G(z, y, b), y, b))
        update G by descending J_G(D(G(z, y, b), y, b)); D frozen

J is the non-saturating GAN loss (:data:`gankit.losses.LOSSES`). G is asked for the classes and boxes of the
real batch, so (y, b) follow the data's joint distribution (a sandal's box is wide, a dress's tall). D sees the
box as a mask beside the image (:mod:`gankit.nets.location`), so an object drawn outside its box, or a box
left empty, is told from the real pairs, where the object fills its box by construction.

A trained run's generator takes ``cond`` = N x 5 rows (class, x0, y0, x1, y1), the box in fractions of the
canvas: ``gankit sample --run R --class sneaker --box 8,8,40,30`` (pixels).
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field

from gankit.config import Section
from gankit.data import DataSpec
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.methods.gan import update
from gankit.methods.gan_config import OptimConfig
from gankit.methods.registry import register_method
from gankit.nets.location import WhereDiscriminator, WhereGenerator
from gankit.nets.modes import eval_mode
from gankit.previews import Preview, samples_preview

PREVIEW_SIDE = 0.5  # the preview's square boxes, as a fraction of the canvas, at these corners (x0, y0):
PREVIEW_CORNERS = ((0.0, 0.0), (0.25, 0.0), (0.5, 0.0), (0.5, 0.25), (0.5, 0.5), (0.25, 0.5), (0.0, 0.5), (0.0, 0.25))
DEFAULT_BOX = (0.2, 0.2, 0.8, 0.8)  # the box of a sample asked for without one


class GAWWNConfig(Section):
    """What and where (method: gawwn): G and D of :mod:`gankit.nets.location`."""

    z_dim: int = Field(64, gt=0)
    g_width: int = Field(16, gt=0)  # channels of G's last stage (doubling towards 4 x 4)
    d_width: int = Field(16, gt=0)  # channels of D's first stage (doubling)
    embed_dim: int = Field(8, gt=0)  # the class embedding replicated inside the box


def conditions(n: int, num_classes: int, cond: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(classes [n], boxes [n, 4]) from ``cond`` (n rows or one row of (class, x0, y0, x1, y1)); without
    ``cond`` the classes in turn, each in :data:`DEFAULT_BOX`."""
    if cond is None:
        return torch.arange(n) % num_classes, torch.tensor(DEFAULT_BOX).expand(n, 4)
    c = torch.as_tensor(cond, dtype=torch.float32)
    c = c.expand(n, 5) if c.dim() == 1 else c
    return c[:, 0].long(), c[:, 1:]


class GAWWN:
    """G(z, y, b) and D(x, y, b) with Adam and the non-saturating loss, on a stream of boxed images."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        if "box" not in spec.cond or not spec.num_classes:
            raise UserError(
                f"method gawwn: data.name={cfg.data.name} has no boxes and classes; use data.name=fashion-mnist-boxes"
            )
        c = cfg.gawwn
        channels, canvas = spec.shape[0], spec.shape[-1]
        self.device, self.classes, self.num_classes, self.z_dim = device, spec.classes, spec.num_classes, c.z_dim
        self.G = WhereGenerator(c.z_dim, self.num_classes, c.embed_dim, canvas, c.g_width, channels).to(device)
        self.D = WhereDiscriminator(self.num_classes, c.embed_dim, canvas, c.d_width, channels).to(device)
        betas = tuple(cfg.optim.betas)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.optim.g_lr, betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.optim.d_lr, betas=betas)
        self.modules = {"G": self.G, "D": self.D}
        self.optimizers = {"G": self.opt_G, "D": self.opt_D}
        self.loss = LOSSES["non-saturating"]
        self.images_per_step = cfg.train.batch_size
        # The preview: a row per class, one latent per row (its own generator: training's RNG is untouched),
        # the object moved around the canvas along the row.
        z = torch.randn(self.num_classes, c.z_dim, generator=torch.Generator().manual_seed(cfg.train.seed + 1_000_003))
        k = len(PREVIEW_CORNERS)
        self.z_preview = z.repeat_interleave(k, 0)
        boxes = torch.tensor([[x, y, x + PREVIEW_SIDE, y + PREVIEW_SIDE] for x, y in PREVIEW_CORNERS])
        classes = torch.arange(self.num_classes).repeat_interleave(k)
        self.cond_preview = torch.cat([classes[:, None].float(), boxes.repeat(self.num_classes, 1)], 1)
        self.G_train, self.D_train = self.G, self.D
        self.rank, self.world_size = 0, 1

    def setup(self, ctx) -> None:
        """One stream of boxed batches; G and D train through the context's wrapper (DDP)."""
        self.batches = ctx.stream("train")
        self.rank, self.world_size = ctx.rank, ctx.world_size
        self.G_train, self.D_train = ctx.wrap(self.G), ctx.wrap(self.D)

    def noise(self, n: int) -> torch.Tensor:
        """This process's share of a global batch of latents (every rank draws the same batch)."""
        return torch.randn(n * self.world_size, self.z_dim, device=self.device)[self.rank :: self.world_size]

    def step(self) -> dict[str, torch.Tensor]:
        batch = next(self.batches)
        x_real, y, box = batch["x"], batch["y"], batch["box"]
        with torch.no_grad():
            x_fake = self.G(self.noise(len(x_real)), y, box)
        real_logits, fake_logits = self.D_train(x_real, y, box), self.D_train(x_fake, y, box)  # separate passes: BN
        loss_D = self.loss.d(real_logits, fake_logits)
        update(self.opt_D, loss_D)
        self.D.requires_grad_(False)  # D frozen in G's step
        loss_G = self.loss.g(self.D(self.G_train(self.noise(len(x_real)), y, box), y, box), None)
        update(self.opt_G, loss_G)
        self.D.requires_grad_(True)
        return {
            "d_loss": loss_D.detach(),
            "g_loss": loss_G.detach(),
            "d_real": torch.sigmoid(real_logits.detach()).mean(),
            "d_fake": torch.sigmoid(fake_logits.detach()).mean(),
        }

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """G(z, y, b) in eval mode, differentiable in z; ``cond``: rows (class, x0, y0, x1, y1) (:func:`conditions`)."""
        y, box = conditions(len(z), self.num_classes, cond)
        with eval_mode(self.G):
            return self.G(z.to(self.device), y.to(self.device), box.to(self.device))

    @torch.no_grad()
    def sample(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(z, cond)

    def preview(self) -> Preview:
        """A row per class with one latent, the object's box moving around the canvas along the row."""
        return samples_preview(self.sample(self.z_preview, self.cond_preview), nrow=len(PREVIEW_CORNERS))

    def evaluate(self) -> dict[str, float]:
        return {}  # the IoU of requested and drawn boxes: benchmarks/what_where.py

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


SMOKE = [
    "data.name=fashion-mnist-boxes",
    "gawwn.z_dim=8",
    "gawwn.g_width=4",
    "gawwn.d_width=4",
    "gawwn.embed_dim=4",
    "train.batch_size=16",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
]


@register_method("gawwn", sections={"gawwn": GAWWNConfig, "optim": OptimConfig}, smoke=SMOKE)
def build(cfg, spec: DataSpec, device: torch.device) -> GAWWN:
    """The what-where GAN of a run config (``method: gawwn``) for the boxed data of ``spec``."""
    return GAWWN(cfg, spec, device)
