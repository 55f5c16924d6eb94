"""SEGAN (method: segan): speech enhancement with a conditional GAN on raw waveforms (Pascual, Bonafonte & Serra
2017, "SEGAN: Speech Enhancement Generative Adversarial Network").

G, a fully convolutional encoder-decoder with skip connections and a latent z at its code (nets/segan.py), maps a
noisy waveform x~ to an enhanced one; D sees the noisy clip beside either the clean clip x or G's output, so it
judges whether the pair is a true (noisy, clean) pair. The losses are least squares (LSGAN) plus an L1 term that
keeps G's output close to the clean clip (eq. 5 of the paper, lambda = 100):

    D step: descend 1/2 E[(D(x, x~) - 1)^2] + 1/2 E[D(G(z, x~), x~)^2]
    G step: descend 1/2 E[(D(G(z, x~), x~) - 1)^2] + l1_weight * E|G(z, x~) - x|

with RMSprop at 2e-4 for both (as published). ``adv_weight`` 0 trains no D: the L1-only baseline.

Departures from the paper, for a CPU: training takes random windows of ``crop`` samples of each pair (published:
16,384-sample windows, all of them), G is fully convolutional, so it enhances whole clips of any length afterwards;
the published widths (16 ... 1024, 11 layers) are the default but the preset is narrower; no pre-emphasis filter and
no virtual batch norm in D. At test time z is drawn from a fixed seed, so an enhancement is deterministic.

Data: pairs with the clean clip as ``x`` and the noisy one as ``noisy`` (gankit.data.noisy_speech: ``fsdd-noisy``,
``tones-noisy``). Scores during training (``eval.eval_every``) are taken on ``val_size`` clips of the data's ``val``
split (other speakers than training's): ``segsnr`` (segmental SNR, dB) of the enhanced clips and ``l1``.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field, field_validator
from torch import nn

from gankit.config import Section
from gankit.data import DataSpec, load_dataset
from gankit.errors import UserError
from gankit.losses import LOSSES
# SEGAN's L1 term (eq. 5, ``reduce_mean`` in the authors' code) and step are pix2pix's.
from gankit.methods.pix2pix import l1, l1_adversarial_step
from gankit.methods.registry import register_method
from gankit.methods.tricks.g_side import PredictsWithEMA
from gankit.metrics.audio_quality import segmental_snr
from gankit.metrics.scoring import register_direction
from gankit.nets.modes import eval_mode
from gankit.nets.segan import PAPER_WIDTHS, SEGANDiscriminator, SEGANGenerator
from gankit.previews import Preview

Z_SEED = 2017  # the fixed latent of enhancement at test time


class SEGANConfig(Section):
    """SEGAN (method: segan); ``adv_weight`` 0 is the L1-only baseline."""

    widths: tuple[int, ...] = PAPER_WIDTHS  # G's encoder channels, one stride-2 layer each (paper: 16 ... 1024)
    d_widths: tuple[int, ...] | None = None  # D's; None: the same as G's (as published)
    residual: bool = False  # G adds a correction to the noisy input, starting at the identity (paper: False)
    d_batch_norm: bool = False  # batch norm in D, in place of the paper's virtual batch norm (not benchmarked)
    preemphasis: float = Field(0.0, ge=0, lt=1)  # pre-emphasis coefficient (paper: 0.95; 0: none)
    crop: int = Field(16384, gt=0)  # training window in samples (paper: 16384), a multiple of 2^len(widths)
    l1_weight: float = Field(100.0, ge=0)  # lambda (paper: 100)
    ssnr_weight: float = Field(0.0, ge=0)  # weight of -(segmental SNR, dB) in G's loss (paper: 0; not in SEGAN)
    adv_weight: float = Field(1.0, ge=0)  # weight of the adversarial term; 0: the L1-only baseline, no D
    loss: str = "lsgan"  # the adversarial loss, a name in gankit.losses.LOSSES (paper: least squares)
    lr: float = Field(2e-4, gt=0)  # RMSprop, both players (paper: 2e-4)
    ema_decay: float = Field(0.0, ge=0, lt=1)  # > 0: enhance with an EMA of G's weights (Yazici et al. 2019; paper: 0)
    val_size: int = Field(200, ge=1)  # clips of the val split scored by evaluate()

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, v: str) -> str:
        if v not in LOSSES or LOSSES[v].autoencoder or LOSSES[v].critic or LOSSES[v].g_uses_real:
            known = ", ".join(k for k in LOSSES if not (LOSSES[k].autoencoder or LOSSES[k].critic))
            raise ValueError(f"unknown or unsupported loss '{v}' (known: {known})")
        return v

    @field_validator("widths", "d_widths")
    @classmethod
    def _positive(cls, v: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if v is not None and (not v or min(v) <= 0):
            raise ValueError(f"{list(v)}: channel widths must be a non-empty list of positive integers")
        return v



def random_windows(clips: torch.Tensor, length: int, *others: torch.Tensor) -> list[torch.Tensor]:
    """The same random window of ``length`` samples (one start per item, from the global RNG) of ``clips`` and of
    each of ``others`` (all B x C x T): a list of B x C x ``length`` tensors."""
    b, c, t = clips.shape
    if length >= t:
        return [clips, *others]
    start = torch.randint(0, t - length + 1, (b,)).to(clips.device)
    index = (start[:, None] + torch.arange(length, device=clips.device))[:, None].expand(b, c, length)
    return [x.gather(-1, index) for x in (clips, *others)]


def pre_emphasis(x: torch.Tensor, coeff: float) -> torch.Tensor:
    """y[n] = x[n] - coeff x[n-1] along the last axis (y[0] = x[0]): the paper's pre-emphasis (coeff 0.95), which
    lifts high frequencies so that G's losses and D weigh them more; :func:`de_emphasis` undoes it."""
    if coeff == 0:
        return x
    return torch.cat([x[..., :1], x[..., 1:] - coeff * x[..., :-1]], dim=-1)


def de_emphasis(y: torch.Tensor, coeff: float) -> torch.Tensor:
    """The inverse of :func:`pre_emphasis`, x[n] = y[n] + coeff x[n-1]: a recursive filter, run by SciPy's lfilter
    (no gradient needed: it is applied only to G's outputs at enhancement time)."""
    if coeff == 0:
        return y
    from scipy.signal import lfilter

    out = lfilter([1.0], [1.0, -coeff], y.detach().cpu().double().numpy(), axis=-1)
    return torch.from_numpy(out).to(y.dtype)


class SEGAN(PredictsWithEMA):
    """G (encoder-decoder) and, unless ``adv_weight`` is 0, D (pair judge) with their RMSprop optimizers."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        if spec.kind != "audio" or "noisy" not in spec.cond:
            raise UserError(
                f"method segan: needs noisy/clean audio pairs (x with 'noisy'), and {cfg.data.name} has none; "
                "use fsdd-noisy (data.root=FSDD's WAV folder) or tones-noisy (gankit.data.noisy_speech)"
            )
        s = self.cfg = cfg.segan
        self.length, d_widths = spec.shape[-1], s.d_widths or s.widths
        for key, widths in (("widths", s.widths), ("d_widths", d_widths)):
            if s.crop % 2 ** len(widths) or s.crop > self.length:
                raise UserError(
                    f"segan.crop: {s.crop} must be at most the clip length {self.length} and a multiple of "
                    f"2^{len(widths)} (one halving per entry of segan.{key})"
                )
        self.device, self.cfg_data = device, cfg.data
        self.G = SEGANGenerator(s.widths, s.residual).to(device)
        self.opt_G = torch.optim.RMSprop(self.G.parameters(), lr=s.lr)
        self.modules: dict[str, nn.Module] = {"G": self.G}
        # The EMA of G's weights (the GAN's trick) enhances in G's place (evaluate, preview, gankit enhance).
        self.init_ema(s.ema_decay)
        self.optimizers: dict[str, torch.optim.Optimizer] = {"G": self.opt_G}
        if s.adv_weight > 0:
            self.D = SEGANDiscriminator(s.crop, d_widths, s.d_batch_norm).to(device)
            self.opt_D = torch.optim.RMSprop(self.D.parameters(), lr=s.lr)
            self.modules["D"], self.optimizers["D"] = self.D, self.opt_D
            self.loss = LOSSES[s.loss]
        self.images_per_step = cfg.train.batch_size
        self.G_train: nn.Module = self.G
        self.D_train: Any = getattr(self, "D", None)  # None: the L1-only baseline has no D
        self.val: dict[str, torch.Tensor] = {}

    def setup(self, ctx) -> None:
        """Stream the training pairs; hold the first ``val_size`` pairs of the data's val split (other speakers)."""
        self.batches = ctx.stream("train")
        val = load_dataset(self.cfg_data.name, split="val", root=self.cfg_data.root)
        n = min(self.cfg.val_size, len(val))
        self.val = {"noisy": val.extra["noisy"][:n].to(self.device), "clean": val.x[:n].to(self.device)}
        self.G_train = ctx.wrap(self.G)
        if hasattr(self, "D"):
            self.D_train = ctx.wrap(self.D)

    def step(self) -> dict[str, torch.Tensor]:
        batch = next(self.batches)
        clean, noisy = random_windows(batch["x"], self.cfg.crop, batch["noisy"])
        clean, noisy = pre_emphasis(clean, self.cfg.preemphasis), pre_emphasis(noisy, self.cfg.preemphasis)
        # Real and fake pairs pass through D separately, as in the authors' code.
        stats = l1_adversarial_step(self, noisy, clean, extra=self._ssnr_term if self.cfg.ssnr_weight else None)
        self.ema_after_step()
        return stats

    def _ssnr_term(self, out: torch.Tensor, clean: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``ssnr_weight`` x the negative segmental SNR of G's output, the score itself as a loss (Kolbaek et al.
        2020 compare it with L1 and others for time-domain enhancement). The L1 term is dominated by loud frames;
        this one weighs every frame's SNR alike, as the score does. A frame outside [-10, 35] dB (the clamp;
        all-zero padding) gives it no gradient, so there the L1 term alone acts."""
        ssnr = segmental_snr(clean, out).mean().float()  # computed in float64
        return -self.cfg.ssnr_weight * ssnr, {"ssnr": ssnr.detach()}

    @torch.no_grad()
    def enhance(self, noisy: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
        """Noisy clips (N x 1 x T, any T) -> enhanced clips of the same shape, G in eval mode with a fixed z.

        Clips are zero-padded at the end to a multiple of 2^len(widths) (G halves the length that often)."""
        multiple = 2 ** len(self.cfg.widths)
        t = noisy.shape[-1]
        x = torch.nn.functional.pad(pre_emphasis(noisy.float(), self.cfg.preemphasis), (0, -t % multiple))
        g = torch.Generator().manual_seed(Z_SEED)
        G = self.predictor
        with eval_mode(G):
            out = []
            for chunk in x.split(batch_size):
                z = torch.randn(len(chunk), *self.G.code_shape(x.shape[-1]), generator=g)
                out.append(G(chunk.to(self.device), z.to(self.device)).cpu())
            return de_emphasis(torch.cat(out)[..., :t], self.cfg.preemphasis)

    def preview(self) -> Preview:
        """Four validation clips: the noisy inputs in the first row of spectrograms, G's outputs in the second."""
        noisy = self.val["noisy"][:4]
        return Preview("audio", torch.cat([noisy.cpu(), self.enhance(noisy)]), nrow=len(noisy),
                       title="noisy | enhanced")

    def evaluate(self) -> dict[str, float]:
        out = self.enhance(self.val["noisy"])
        clean = self.val["clean"].cpu()
        return {"segsnr": float(segmental_snr(clean, out).mean()), "l1": float(l1(out, clean))}

    def state_dict(self) -> dict[str, Any]:
        return self.ema_state()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.load_ema_state(state)


register_direction("segsnr", True)
register_direction("l1", False)

SMOKE = [
    "data.name=tones-noisy",
    "segan.widths=[4,8,8]",
    "segan.crop=1024",
    "segan.val_size=4",
    "train.batch_size=4",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
]


def _label(cfg) -> str:
    return "segan" if cfg.segan.adv_weight > 0 else "segan-l1"


@register_method("segan", sections={"segan": SEGANConfig}, smoke=SMOKE, label=_label)
def build(cfg, spec: DataSpec, device: torch.device) -> SEGAN:
    """SEGAN (or, with ``segan.adv_weight=0``, its L1-only baseline) for the noisy/clean pairs of ``spec``."""
    return SEGAN(cfg, spec, device)
