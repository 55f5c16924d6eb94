"""Next-frame prediction (Mathieu, Couprie & LeCun 2016, "Deep multi-scale video prediction beyond mean square
error"): G maps the k previous frames to frame t+1, and predicts t+2..t+K by feeding its own predictions back.

When the future is uncertain (a digit about to bounce, two digits about to cross), a G trained with the MSE
predicts the mean of the possible frames, a blur. Mathieu et al. add two terms that punish the blur:

    L_G = lp_weight * L_p(Y, Y^)                        eq. 1, p = 2 (the MSE) or 1
        + gdl_weight * L_gdl(Y, Y^; alpha)              eq. 5, the gradient difference loss (:mod:`gankit.losses.video`)
        + adv_weight * L_adv(D(X, Y^))                  eq. 3-4, a multi-scale D on the sequence (X, Y^)

One step (their Algorithm 1, with the D and G updates on one minibatch):

    draw sequences, and in each a window of k + 1 consecutive frames: context X, next frame Y
    Y^ = G(X, z)                                         z: a noise map (``z_channels``), plus dropout on at test time
    if adv_weight > 0: update D by descending  loss.d(D(X, Y), D(X, Y^))   averaged over D's scales
    update G by descending  L_G  through the updated, frozen D

With ``rollout`` R > 1 (not in the paper, which trains single-step) a window holds k + R frames and G predicts
the R after the context recursively, each prediction fed back as at test time (gradients flow through the
feedback); every step's prediction pays the losses against its true frame, and D judges it after the true k
frames before it, or (``d_judges: rollout``) D judges the whole window at once: the true k frames followed by
the R predictions against the true k + R frames, so it can reject a rollout whose digits drift, thicken or fade
from frame to frame. R = 1 is the paper's step, draw for draw.

The adversarial pair comes from :data:`gankit.losses.LOSSES` (``nextframe.loss``). Scores (:func:`horizon_scores`):
PSNR and SSIM (:mod:`gankit.metrics.image_quality`), Mathieu et al.'s sharpness difference
(:mod:`gankit.metrics.sharpness`) and the high-frequency ratio (fine detail kept, as for super-resolution) of each
horizon t+1..t+K, from the first k frames of a sequence. ``evaluate()``
reads a validation split carved from the training sequences (the last ``val_size``); the test split is read
only by :func:`gankit.next_frame.test_scores`.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn
from pydantic import Field, field_validator

from gankit.config import Section
from gankit.data import DataSpec, TensorData
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.losses.video import gradient_difference_loss, lp_loss
from gankit.methods.registry import register_method
from gankit.methods.tricks.g_side import PredictsWithEMA
from gankit.metrics.image_quality import high_frequency_ratio, psnr, ssim
from gankit.metrics.scoring import register_direction
from gankit.metrics.sharpness import sharpness_difference
from gankit.nets.nextframe import FramePredictor, MultiScaleD
from gankit.previews import Preview

EVAL_SEED = 7  # noise and dropout of evaluation and previews (their draws leave the training RNG alone)
PREVIEW_SEQUENCES = 4


class NextFrameConfig(Section):
    """Next-frame prediction (method: nextframe): predictor, loss weights, optimisers, validation split."""

    context: int = Field(4, gt=0)  # k: frames G sees
    horizon: int = Field(6, gt=0)  # K: recursive predictions t+1..t+K scored (context + horizon <= frames)
    rollout: int = Field(1, gt=0)  # frames predicted recursively per training window, each scored (1: the paper's)
    d_judges: Literal["step", "rollout"] = "step"  # D sees each prediction after its true context, or the whole rollout
    width: int = Field(16, gt=0)  # G's channels at full resolution
    depth: int = Field(3, gt=0)  # G's halvings (frame side divisible by 2^depth)
    z_channels: int = Field(2, ge=0)  # channels of G's noise map at the coarsest scale; 0: no noise input
    dropout: float = Field(0.0, ge=0, lt=1)  # dropout in G's decoder, kept on at test time
    p: Literal[1, 2] = 2  # L_p: 2 = the MSE, 1 = the L1
    lp_weight: float = Field(1.0, ge=0)
    gdl_weight: float = Field(0.0, ge=0)
    gdl_alpha: float = Field(1.0, gt=0)  # the GDL's exponent (the paper: 1 or 2)
    adv_weight: float = Field(0.0, ge=0)  # 0: no D
    loss: str = "non-saturating"  # the adversarial pair, a name in gankit.losses.LOSSES
    d_width: int = Field(16, gt=0)  # channels of each D scale's first layer
    d_scales: list[int] = [1, 2, 4]  # D's average-pooling factors
    g_lr: float = Field(1e-3, gt=0)
    d_lr: float = Field(2e-4, gt=0)
    betas: tuple[float, float] = (0.5, 0.999)
    val_size: int = Field(200, gt=0)  # validation sequences carved from the training split
    eval_batch: int = Field(50, gt=0)  # sequences per forward pass when scoring
    ema_decay: float = Field(0.0, ge=0, lt=1)  # > 0: predict with an EMA of G's weights (Yazici et al. 2019; paper: 0)

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, v: str) -> str:
        if v not in LOSSES or LOSSES[v].autoencoder or LOSSES[v].critic:
            usable = ", ".join(k for k, loss in LOSSES.items() if not (loss.autoencoder or loss.critic))
            raise ValueError(f"unknown or unusable adversarial loss '{v}' (usable: {usable})")
        return v

    @field_validator("d_scales")
    @classmethod
    def _scales(cls, v: list[int]) -> list[int]:
        if not v or any(s < 1 or s & (s - 1) for s in v):
            raise ValueError(f"d_scales must be powers of two (1, 2, 4, ...), got {v}")
        return v


def _check(cfg) -> None:
    nf = cfg.nextframe
    if nf.lp_weight == nf.gdl_weight == nf.adv_weight == 0:
        raise ValueError("nextframe: lp_weight, gdl_weight and adv_weight are all 0; G would learn nothing")


HF_CUTOFF = 0.125  # cycles per pixel: detail finer than 8 pixels (a Moving MNIST stroke is 2 to 4 pixels wide)


def horizon_scores(pred: torch.Tensor, truth: torch.Tensor) -> dict[str, list[float]]:
    """Mean PSNR, SSIM, sharpness difference and high-frequency ratio of each horizon.

    The sharpness difference is full-reference: a crisp stroke in the wrong place costs as much as a blurred one.
    The high-frequency ratio (:func:`~gankit.metrics.image_quality.high_frequency_ratio` above ``HF_CUTOFF``) asks
    only how much fine detail a prediction has against its true frame: below 1 a blur or fading ink, near 1 as
    crisp as the truth, wherever its strokes are.

    Args:
        pred, truth: N x K x C x H x W in [-1, 1], horizon t+1 first.

    Returns:
        ``psnr``, ``ssim``, ``sharpness``, ``hf_ratio``: K values each (means over the N sequences; dB, -, dB, -).
    """
    out: dict[str, list[float]] = {"psnr": [], "ssim": [], "sharpness": [], "hf_ratio": []}
    for h in range(pred.shape[1]):
        y_hat, y = pred[:, h].clamp(-1, 1), truth[:, h]
        out["psnr"].append(float(psnr(y_hat, y).mean()))
        out["ssim"].append(float(ssim(y_hat, y).mean()))
        out["sharpness"].append(float(sharpness_difference(y_hat, y).mean()))
        out["hf_ratio"].append(float(high_frequency_ratio(y_hat, y, HF_CUTOFF).mean()))
    return out


class NextFrame(PredictsWithEMA):
    """G (and D when ``adv_weight`` > 0) with their Adam optimisers; see the module docstring."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        nf = self.cfg = cfg.nextframe
        if spec.kind != "video":
            raise UserError(f"method nextframe: predicts frames of videos (T x C x H x W); {cfg.data.name} holds "
                            f"{spec.kind or 'items'} of shape {spec.shape}")  # fmt: skip
        frames, channels, h, w = spec.shape
        if nf.context + nf.rollout > frames:
            raise UserError(f"nextframe.context={nf.context} + nextframe.rollout={nf.rollout} exceeds the {frames} "
                            f"frames of {cfg.data.name}'s sequences")  # fmt: skip
        if nf.context + nf.horizon > frames:
            raise UserError(f"nextframe.context={nf.context} + nextframe.horizon={nf.horizon} exceeds the {frames} "
                            f"frames of {cfg.data.name}'s sequences")  # fmt: skip
        if h % 2**nf.depth or w % 2**nf.depth or h != w:
            raise UserError(f"nextframe.depth={nf.depth}: frames of {h}x{w} must be square and divisible by "
                            f"2^depth = {2**nf.depth}")  # fmt: skip
        if max(nf.d_scales) > h // 4:
            raise UserError(f"nextframe.d_scales={nf.d_scales}: a scale of {max(nf.d_scales)} leaves under 4 "
                            f"pixels of {h}x{w} frames")  # fmt: skip
        self.device, self.k, self.size = device, nf.context, h
        self.G = FramePredictor(nf.context, channels, nf.width, nf.depth, nf.z_channels, nf.dropout).to(device)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=nf.g_lr, betas=tuple(nf.betas))
        self.modules: dict[str, nn.Module] = {"G": self.G}
        self.optimizers: dict[str, torch.optim.Optimizer] = {"G": self.opt_G}
        # The EMA of G's weights (the GAN's trick) predicts in G's place: evaluation, previews, test scores.
        self.init_ema(nf.ema_decay)
        self.adversarial = nf.adv_weight > 0
        if self.adversarial:
            self.loss = LOSSES[nf.loss]
            judged = nf.context + (nf.rollout if nf.d_judges == "rollout" else 1)  # frames in a sequence D judges
            self.D = MultiScaleD(judged, channels, h, nf.d_width, tuple(nf.d_scales)).to(device)
            self.opt_D = torch.optim.Adam(self.D.parameters(), lr=nf.d_lr, betas=tuple(nf.betas))
            self.modules["D"], self.optimizers["D"] = self.D, self.opt_D
        self.images_per_step = cfg.train.batch_size
        self.G_train, self.D_train = self.G, getattr(self, "D", None)  # until setup() wraps them

    def setup(self, ctx) -> None:
        """Hold out the last ``val_size`` training sequences for validation and stream the rest. The sequences are
        drawn independently (:mod:`gankit.data.moving`), so the last ones are a random sample, and views instead of
        a permutation's copies keep a 2,000-sequence split at 328 MB instead of twice that."""
        train = ctx.data.part("train")
        n = len(train)
        if self.cfg.val_size >= n:
            raise UserError(f"nextframe.val_size={self.cfg.val_size}: {train.name} has only {n} sequences")
        ctx.add_part("fit", TensorData(train.x[: n - self.cfg.val_size], name=f"{train.name} (training sequences)"))
        self.x_val = train.x[n - self.cfg.val_size :]
        self.batches = ctx.stream("fit")
        self.G_train = ctx.wrap(self.G)
        if self.adversarial:
            self.D_train = ctx.wrap(self.D)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor | None:
        """G's noise map for n frames (None without a noise input)."""
        if not self.cfg.z_channels:
            return None
        return torch.randn(self.G.noise_shape(n, self.size, self.size), generator=generator).to(self.device)

    def window(self, seq: torch.Tensor, steps: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """A random window of k + steps consecutive frames of each sequence.

        Returns:
            (context N x k*C x H x W, the next frames N x steps x C x H x W).
        """
        n, frames = seq.shape[:2]
        start = torch.randint(0, frames - self.k - steps + 1, (n,))  # the global RNG: a resumed run draws the same
        idx = (start[:, None] + torch.arange(self.k + steps)).to(seq.device)  # N x k+steps
        win = seq[torch.arange(n, device=seq.device)[:, None], idx]  # N x k+steps x C x H x W
        return win[:, : self.k].flatten(1, 2), win[:, self.k :]

    def adversarial_terms(self, D, real_seq: torch.Tensor, fake_seq: torch.Tensor, player: str) -> torch.Tensor:
        """The pair's D or G loss, averaged over D's scales. D sees real and fake in one pass (it has no batch
        norm, so they cannot leak statistics into each other)."""
        n = real_seq.shape[0]
        if player == "g" and not self.loss.g_uses_real:
            return torch.stack([self.loss.g(o) for o in D(fake_seq)]).mean()
        outs = D(torch.cat([real_seq, fake_seq]))
        terms = [self.loss.d(o[:n], o[n:]) if player == "d" else self.loss.g(o[n:], o[:n]) for o in outs]
        return torch.stack(terms).mean()

    def step(self) -> dict[str, torch.Tensor]:
        nf = self.cfg
        context, ys = self.window(next(self.batches)["x"], nf.rollout)
        c, inputs, preds = ys.shape[2], [context], []
        for _ in range(nf.rollout):  # rollout > 1: G also learns from its own predictions fed back, as at test time
            preds.append(self.G_train(inputs[-1], self.noise(ys.shape[0])))
            inputs.append(torch.cat([inputs[-1][:, c:], preds[-1].clamp(-1, 1)], 1))
        # Each step's prediction is scored against its true next frame and judged after the true context it
        # continues (frames r..r+k-1 of the window), so D asks the same question at every step; or D judges the
        # whole window (d_judges: rollout).
        frames = torch.cat([context, ys.flatten(1, 2)], 1)  # N x (k+rollout)*C x H x W, all true
        if nf.d_judges == "rollout":  # D: the true context, then all R frames, true or predicted
            real, fake = frames, torch.cat([context, *preds], 1)
        context = torch.cat([frames[:, c * r : c * (r + self.k)] for r in range(nf.rollout)])  # rollout*N, step-major
        y, y_hat = ys.transpose(0, 1).flatten(0, 1), torch.cat(preds)  # rollout*N x C x H x W, step-major
        if nf.d_judges == "step":
            real, fake = torch.cat([context, y], 1), torch.cat([context, y_hat], 1)
        stats = {}
        if self.adversarial:  # D first, on the detached prediction, as in Mathieu et al.'s Algorithm 1
            loss_D = self.adversarial_terms(self.D_train, real, fake.detach(), "d")
            self.opt_D.zero_grad(set_to_none=True)
            loss_D.backward()
            self.opt_D.step()
            stats["d_loss"] = loss_D.detach()
        lp, gdl = lp_loss(y_hat, y, nf.p), gradient_difference_loss(y_hat, y, nf.gdl_alpha)
        loss_G = nf.lp_weight * lp + nf.gdl_weight * gdl
        if self.adversarial:
            self.D.requires_grad_(False)  # D must not move in G's step; called unwrapped, it needs no sync
            adv = self.adversarial_terms(self.D, real, fake, "g")
            self.D.requires_grad_(True)
            loss_G = loss_G + nf.adv_weight * adv
            stats["g_adv"] = adv.detach()
        self.opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        self.opt_G.step()
        self.ema_after_step()
        return {"g_loss": loss_G.detach(), f"l{nf.p}": lp.detach(), "gdl": gdl.detach(), **stats}

    @torch.no_grad()
    def predict(self, context: torch.Tensor, steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Roll G out: frames t+1..t+steps from the k context frames, each prediction fed back as input.

        Args:
            context: N x k x C x H x W in [-1, 1].
            steps: K, the frames to predict.
            generator: draws G's noise (a new map per frame); dropout uses the global RNG.

        Returns:
            N x K x C x H x W.
        """
        frames = list(context.to(self.device).unbind(1))
        G = self.predictor
        for _ in range(steps):
            y_hat = G(torch.cat(frames[-self.k :], 1), self.noise(frames[0].shape[0], generator))
            frames.append(y_hat.clamp(-1, 1))  # G's output is linear (nets.nextframe); a frame lies in [-1, 1]
        return torch.stack(frames[self.k :], 1)

    def rollout(self, seqs: torch.Tensor, steps: int, seed: int = EVAL_SEED) -> torch.Tensor:
        """Predictions of frames k..k+steps-1 of ``seqs`` from their first k, in batches of ``eval_batch``; seeded,
        and the training RNG is left as it was (dropout draws from a forked one)."""
        gen = torch.Generator().manual_seed(seed)
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            parts = [self.predict(s[:, : self.k], steps, gen).cpu() for s in seqs.split(self.cfg.eval_batch)]
        return torch.cat(parts)

    def score(self, seqs: torch.Tensor, steps: int | None = None) -> dict[str, list[float]]:
        """:func:`horizon_scores` of the rollout of ``seqs`` (N x T x C x H x W) over ``steps`` (default K)."""
        steps = steps or self.cfg.horizon
        return horizon_scores(self.rollout(seqs, steps), seqs[:, self.k : self.k + steps])

    def evaluate(self) -> dict[str, float]:
        """PSNR, SSIM and sharpness on the validation sequences: the mean over horizons t+1..t+K, and each one."""
        scores = self.score(self.x_val)
        out = {key: sum(v) / len(v) for key, v in scores.items()}
        out |= {f"{key}_t{h + 1}": x for key, v in scores.items() for h, x in enumerate(v)}
        return out

    def preview(self) -> Preview:
        """Per validation sequence two strips: context | truth, then blanks | prediction."""
        seqs = self.x_val[:PREVIEW_SEQUENCES]
        steps = min(self.cfg.horizon, seqs.shape[1] - self.k)
        pred = self.rollout(seqs, steps)
        blank = torch.ones_like(seqs[:, : self.k])  # white: the grid's background
        rows = [t for s in range(len(seqs)) for t in (seqs[s, : self.k + steps], torch.cat([blank[s], pred[s]]))]
        return Preview("frames", torch.stack(rows), split=self.k)

    def state_dict(self) -> dict[str, Any]:
        return self.ema_state()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.load_ema_state(state)


for _key in ("psnr", "ssim", "sharpness"):  # eval.best_metric may name any of them
    register_direction(_key, higher_is_better=True)

SMOKE = [
    "data.name=moving-mnist",
    "data.img_size=32",
    "nextframe.width=4",
    "nextframe.depth=2",
    "nextframe.d_width=4",
    "nextframe.adv_weight=0.05",
    "nextframe.gdl_weight=1",
    "nextframe.horizon=2",
    "nextframe.val_size=16",
    "nextframe.ema_decay=0.9",  # so that the conformance tests resume the EMA too
    "train.batch_size=8",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
]


@register_method("nextframe", sections={"nextframe": NextFrameConfig}, check=_check, smoke=SMOKE)
def build(cfg, spec: DataSpec, device: torch.device) -> NextFrame:
    return NextFrame(cfg, spec, device)
