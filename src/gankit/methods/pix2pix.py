"""pix2pix (method: pix2pix): image-to-image translation from paired data (Isola et al. 2017).

A conditional GAN: G, a U-Net, maps an input image a to an output G(a); D, a PatchGAN, sees a together with either
the true target b or G(a) and scores each patch (nets/translation.py). G also pays an L1 distance to the target,
which carries the low frequencies; the adversarial term keeps the high ones sharp, where L1 alone averages the
plausible outputs into a blur (sec. 3.1). One step, for a batch of pairs (a, b):

    if pix2pix.adv_weight > 0:
        D step: descend 0.5 * loss.d(D(a, b), D(a, G(a)))     (halved, as published: D learns slower than G)
    G step: descend l1_weight * |G(a) - b|_1 + adv_weight * loss.g(D(a, G(a)))

with Adam at 2e-4 held for the first ``decay_start`` of the run, then decayed linearly to 0 (the authors' code), and
``l1_weight`` 100 as published (lambda) and any loss of ``gankit.losses.LOSSES``; ``adv_weight`` 0 trains no D:
the L1-only baseline of the paper's Table 1. Dropout in G is the noise (sec. 3.2); unlike the paper, which keeps
dropout on at test time, ``translate`` runs G in eval mode, so a translation is deterministic; with
``ema_decay`` > 0 it runs an exponential moving average of G's weights (Yazici et al. 2019) instead.

Data: any paired dataset (gankit.data.paired: ``x`` the target B, ``a`` the input A), ``direction`` BtoA swaps them.
Scores during training (``eval.eval_every``) are taken on ``val_size`` pairs held out of the training split:
``l1`` (mean absolute error, [-1, 1] units), and for 28-pixel-based data (Fashion-MNIST, MNIST edges) ``fid``
(domain FID: the shipped classifier's features of outputs vs targets) and ``class_accuracy`` (the classifier
calls an output the class of its source image).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal

import torch
from torch import nn
from pydantic import Field, field_validator

from gankit.config import Section
from gankit.data import DataSpec, TensorData
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.methods.registry import register_method
from gankit.methods.schedule import lr_factor
from gankit.methods.tricks.g_side import ema_decay_at, ema_update
from gankit.metrics.scoring import register_direction
from gankit.nets.modes import eval_mode
from gankit.nets.translation import PatchGAN, UNet, patch_layers
from gankit.previews import Preview


class Pix2PixConfig(Section):
    """pix2pix (method: pix2pix); ``adv_weight`` 0 is the L1-only baseline."""

    direction: Literal["AtoB", "BtoA"] = "AtoB"  # AtoB: the data's ``a`` is the input and ``x`` the target
    width: int = Field(64, gt=0)  # G's first channels (paper: 64)
    depth: int | None = Field(None, ge=1)  # U-Net halvings; None: while the side is even, at most 8
    dropout: float = Field(0.5, ge=0, lt=1)  # in G's innermost three decoder levels (paper: 0.5)
    d_width: int = Field(64, gt=0)  # D's first channels (paper: 64)
    d_layers: int | None = Field(None, ge=0)  # PatchGAN stride-2 layers; None: scaled from 70 x 70 at 256 px
    l1_weight: float = Field(100.0, ge=0)  # lambda (paper: 100)
    adv_weight: float = Field(1.0, ge=0)  # weight of the adversarial term; 0: the L1-only baseline, no D
    loss: str = "non-saturating"  # the adversarial loss, a name in gankit.losses.LOSSES
    lr: float = Field(2e-4, gt=0)  # Adam, both players (paper: 2e-4)
    betas: tuple[float, float] = (0.5, 0.999)  # (paper: 0.5, 0.999)
    decay_start: float = Field(0.5, ge=0, le=1)  # fraction of train.steps at the base rate, then linear to 0
    ema_decay: float = Field(0.0, ge=0, lt=1)  # > 0: translate with an EMA of G's weights (0: G itself, the paper)
    val_size: int = Field(512, ge=1)  # training pairs held out for validation scores
    extractor: str | None = None  # for fid / class_accuracy; None: the data's shipped classifier, if any

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, v: str) -> str:
        if v not in LOSSES or LOSSES[v].autoencoder or LOSSES[v].critic:
            known = ", ".join(k for k in LOSSES if not (LOSSES[k].autoencoder or LOSSES[k].critic))
            raise ValueError(f"unknown or unsupported loss '{v}' (known: {known})")
        return v


def l1(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error, pix2pix's L1 term (eq. 3) per pixel and channel."""
    return (output - target).abs().mean()


def l1_adversarial_step(
    m: Any,
    x: torch.Tensor,
    y: torch.Tensor,
    d_scale: float = 1.0,
    extra: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]] | None = None,
) -> dict[str, torch.Tensor]:
    """One step of a conditional GAN with an L1 term (pix2pix; SEGAN): D on real pairs (x, y) against (x, G(x)),
    then G on ``l1_weight * L1(G(x), y) + adv_weight * L_adv``. Without a ``D`` (``adv_weight`` 0) only the L1 term.

    ``m`` holds ``G_train``, ``opt_G``, ``loss`` (a pair loss), ``cfg.l1_weight``, ``cfg.adv_weight`` and, with an
    adversarial term, ``D``, ``D_train`` and ``opt_D``. ``extra(G(x), y)``, when given, returns a further term of
    G's loss (already weighted) and the stats to log with it. Returns ``l1`` and, with D, ``d_loss`` and ``g_adv``.
    """
    stats: dict[str, torch.Tensor] = {}
    if hasattr(m, "D"):
        with torch.no_grad():
            fake = m.G_train(x)
        # Real and fake pass through D separately, so batch norm never mixes their statistics.
        loss_D = d_scale * m.loss.d(m.D_train(x, y), m.D_train(x, fake))
        m.opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        m.opt_D.step()
        stats["d_loss"] = loss_D.detach()
    out = m.G_train(x)
    rec = l1(out, y)
    loss_G = m.cfg.l1_weight * rec
    if hasattr(m, "D"):
        m.D.requires_grad_(False)  # D is fixed in G's step
        adv = m.loss.g(m.D_train(x, out), None)
        m.D.requires_grad_(True)
        loss_G = loss_G + m.cfg.adv_weight * adv
        stats["g_adv"] = adv.detach()
    if extra is not None:
        term, more = extra(out, y)
        loss_G = loss_G + term
        stats |= more
    m.opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    m.opt_G.step()
    return {"l1": rec.detach(), **stats}


class Pix2Pix:
    """G (U-Net) and, unless ``adv_weight`` is 0, D (PatchGAN) with their Adam optimizers."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        if spec.kind != "image" or "a" not in spec.cond:
            raise UserError(
                f"method pix2pix: needs paired images (x with its input 'a'), and {cfg.data.name} has none; "
                "use fashion-mnist-edges, mnist-5k-edges or paired-folder (gankit.data.paired)"
            )
        p = self.cfg = cfg.pix2pix
        c, h, w = spec.shape
        if h != w:
            raise UserError(f"method pix2pix: needs square images, and {cfg.data.name} has {h} x {w}")
        self.device, self.channels, self.size = device, c, h
        self.G = UNet(c, c, h, p.width, p.depth, p.dropout).to(device)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=p.lr, betas=tuple(p.betas))
        self.modules: dict[str, nn.Module] = {"G": self.G}
        # An exponential moving average of G's weights (Yazici et al. 2019) translates in G's place when kept: it
        # averages out the noise of Adam's steps at a constant rate; training never reads it.
        self.G_ema: nn.Module | None = None
        self.ema_steps = 0
        if p.ema_decay > 0:
            self.G_ema = self.modules["G_ema"] = copy.deepcopy(self.G).requires_grad_(False)
        self.optimizers: dict[str, torch.optim.Optimizer] = {"G": self.opt_G}
        if p.adv_weight > 0:
            layers = patch_layers(h) if p.d_layers is None else p.d_layers
            if h // 2**layers < 3:
                raise UserError(f"pix2pix.d_layers: {layers} stride-2 layers leave no patches of {h}-pixel images")
            self.D = PatchGAN(2 * c, p.d_width, layers).to(device)
            self.opt_D = torch.optim.Adam(self.D.parameters(), lr=p.lr, betas=tuple(p.betas))
            self.modules["D"], self.optimizers["D"] = self.D, self.opt_D
            self.loss = LOSSES[p.loss]
        # The authors' code holds the rate for half the epochs, then decays it linearly to 0.
        f = lambda t: lr_factor("linear", t, cfg.train.steps, p.decay_start, 0.0)  # noqa: E731
        self.schedulers = {k: torch.optim.lr_scheduler.LambdaLR(o, f) for k, o in self.optimizers.items()}
        self.images_per_step = cfg.train.batch_size
        self.G_train: nn.Module = self.G
        self.D_train: Any = getattr(self, "D", None)  # None: the L1-only baseline has no D
        self.extractor = p.extractor or _default_classifier(cfg.data.name)
        self.num_preview = min(8, cfg.train.num_samples)
        self.val: dict[str, torch.Tensor] = {}

    def setup(self, ctx) -> None:
        """Hold out ``val_size`` training pairs (the same ones for every seed), stream the rest."""
        train = ctx.data.part("train")
        if len(train) <= self.cfg.val_size:
            raise UserError(f"pix2pix.val_size: {self.cfg.val_size} leaves no training pairs of {len(train)}")
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(2017))
        val, rest = order[: self.cfg.val_size], order[self.cfg.val_size :]
        a, b = self.sides(train)
        y = train.y
        ctx.add_part("pairs_train", TensorData(b[rest], None if y is None else y[rest], train.classes, train.name,
                                               extra={"a": a[rest]}))
        self.batches = ctx.stream("pairs_train")
        self.val = {"a": a[val].to(self.device), "b": b[val].to(self.device)}
        if y is not None:
            self.val["y"] = y[val]
        self.G_train = ctx.wrap(self.G)
        if hasattr(self, "D"):
            self.D_train = ctx.wrap(self.D)

    def sides(self, data: TensorData) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets) of paired data in this run's direction."""
        a, b = data.extra["a"], data.x
        return (a, b) if self.cfg.direction == "AtoB" else (b, a)

    def step(self) -> dict[str, torch.Tensor]:
        batch = next(self.batches)
        a, b = batch["a"], batch["x"]  # in the run's direction already (setup swapped them)
        # pix2pix halves D's objective, slowing D relative to G (Isola et al. 2017, sec. 3.3).
        stats = l1_adversarial_step(self, a, b, d_scale=0.5)
        if self.G_ema is not None:
            ema_update(self.G_ema, self.G, ema_decay_at(self.cfg.ema_decay, self.ema_steps))
            self.ema_steps += 1
        for s in self.schedulers.values():
            s.step()
        return stats

    @torch.no_grad()
    def translate(self, a: torch.Tensor, direction: str | None = None) -> torch.Tensor:
        """Inputs in [-1, 1] (N x C x H x W) -> outputs in [-1, 1], G (or its EMA) in eval mode (no dropout)."""
        if direction not in (None, self.cfg.direction):
            raise UserError(f"this pix2pix run translates {self.cfg.direction} only (pix2pix.direction)")
        G = self.G_ema if self.G_ema is not None else self.G
        with eval_mode(G):
            return torch.cat([G(x.to(self.device)) for x in a.split(256)]).clamp(-1, 1)

    def preview(self) -> Preview:
        """One row per validation pair: input | output | target."""
        a, b = self.val["a"][: self.num_preview], self.val["b"][: self.num_preview]
        rows = torch.stack([a, self.translate(a), b], 1)
        return Preview("images", rows.flatten(0, 1).cpu(), nrow=3, title="input | output | target")

    def evaluate(self) -> dict[str, float]:
        out = self.translate(self.val["a"]).cpu()
        return translation_scores(out, self.val["b"].cpu(), self.val.get("y"), self.extractor)

    def state_dict(self) -> dict[str, Any]:
        state = {"ema_steps": self.ema_steps} if self.G_ema is not None else {}  # the clock of the EMA's warm-up
        return state | {f"lr_schedule_{k}": s.state_dict() for k, s in self.schedulers.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.ema_steps = int(state.get("ema_steps", 0))
        for k, s in self.schedulers.items():
            if f"lr_schedule_{k}" in state:
                s.load_state_dict(state[f"lr_schedule_{k}"])


def _default_classifier(dataset: str) -> str | None:
    if dataset.startswith("fashion-mnist"):
        return "fashion-mnist-classifier"
    if dataset.startswith("mnist"):
        return "mnist-classifier"
    return None


def translation_scores(
    output: torch.Tensor, target: torch.Tensor, labels: torch.Tensor | None, extractor: str | None
) -> dict[str, float]:
    """``l1`` between outputs and targets; with a classifier ``extractor`` (28-pixel-based data) also ``fid``
    (its features of outputs vs targets) and, with ``labels``, ``class_accuracy`` (outputs it calls their label)."""
    from gankit.data.paired import to_native
    from gankit.metrics.extractors import extract
    from gankit.metrics.fid import fid

    scores = {"l1": float(l1(output, target))}
    if extractor is None or output.shape[-1] not in (28, 32, 64):
        return scores
    f_out, p_out = extract(extractor, to_native(output))
    f_true, _ = extract(extractor, to_native(target))
    scores["fid"] = fid(f_out, f_true)
    if labels is not None and p_out is not None:
        scores["class_accuracy"] = float((p_out.argmax(1) == labels.to(p_out.device)).float().mean())
    return scores


register_direction("l1", False)

SMOKE = [
    "data.name=mnist-5k-edges",
    "data.img_size=32",
    "pix2pix.width=4",
    "pix2pix.d_width=4",
    "pix2pix.val_size=16",
    "train.batch_size=8",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
]


def _label(cfg) -> str:
    return "pix2pix" if cfg.pix2pix.adv_weight > 0 else "pix2pix-l1"


@register_method("pix2pix", sections={"pix2pix": Pix2PixConfig}, smoke=SMOKE, label=_label)
def build(cfg, spec: DataSpec, device: torch.device) -> Pix2Pix:
    return Pix2Pix(cfg, spec, device)
