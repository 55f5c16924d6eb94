"""The semi-supervised GAN (Salimans et al. 2016, "Improved Techniques for Training GANs", section 5).

D is a K-way classifier whose (K+1)-th class, "generated", is implicit (:mod:`gankit.losses.semi_supervised`).
It learns the classes from a few labelled images and, from many unlabelled ones, to tell real from generated;
G learns by feature matching (section 3.1), which the paper found to give the better classifier:

    for each training iteration:
        draw labelled (x_l, y_l), unlabelled x_u and z
        update D by descending  CE(D(x_l), y_l) + w [-log D(x_u) - log(1 - D(G(z)))]  (+ w_H H(p(y | x_u)))
        draw unlabelled x_u' and z'
        update G by descending  ||mean f(x_u') - mean f(G(z'))||^2      (f: D's last hidden layer; D frozen)

``ssgan.variant: supervised`` trains the same classifier on the labelled images alone for the same steps:
the baseline the GAN must beat.

The data: ``ssgan.val_size`` images of the ``train`` split (a permutation seeded once, :data:`VAL_SEED`) are the
validation split that :meth:`SSGAN.evaluate` scores (``val_acc``) and every hyperparameter is chosen on; of the
rest, ``labels_per_class`` images per class, drawn with ``data.seed`` (:func:`labelled_indices`), keep their
labels, and all of the rest (the labelled ones too) are the unlabelled pool. The test split is read only by
:func:`gankit.semi_supervised.test_accuracy`, once per final run.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn
from pydantic import Field

from gankit.config import RunConfig, Section
from gankit.data import DataSpec, TensorData
from gankit.errors import UserError
from gankit.losses.semi_supervised import (
    conditional_entropy,
    d_unsupervised_loss,
    feature_matching_loss,
    supervised_loss,
)
from gankit.methods.gan import update
from gankit.methods.registry import register_method
from gankit.metrics.scoring import register_direction
from gankit.nets.dcgan import DCGANGenerator
from gankit.nets.modes import eval_mode
from gankit.nets.ssgan import SSClassifier, SSGenerator, init_from_data
from gankit.previews import Preview, samples_preview

VAL_SEED = 0  # the validation split is the same for every run, whatever data.seed picks as labelled images
PREVIEW_ROWS = 10
INIT_IMAGES = 500  # unlabelled images for data_init (the paper's code: 500)


class SSGANConfig(Section):
    """The semi-supervised GAN (method: ssgan). Defaults: the paper's MNIST model (its code, ``mnist`` script);
    the presets swap G for the DCGAN generator (``g_arch: dcgan``), which learnt far faster on validation."""

    variant: Literal["ssgan", "supervised"] = "ssgan"  # supervised: the same classifier on the labelled images alone
    labels_per_class: int = Field(10, gt=0)  # labelled images per class (the rest of the training split: unlabelled)
    val_size: int = Field(5000, gt=0)  # validation images carved from the training split
    unsupervised_weight: float = Field(1.0, ge=0)  # w in CE + w * L_unsupervised
    entropy_weight: float = Field(0.0, ge=0)  # D's confidence on unlabelled images (Dai et al. 2017); 0: the paper
    arch: Literal["mlp", "conv"] = "mlp"  # D: the paper's MLP, or a small all-convolutional classifier
    hidden: list[int] = [1000, 500, 250, 250, 250]  # mlp: D's hidden layers (feature matching reads the last)
    width: int = Field(32, gt=0)  # conv: channels of D's first layer
    input_noise: float = Field(0.3, ge=0)  # std of the Gaussian noise on D's input pixels (in [-1, 1] units)
    hidden_noise: float = Field(0.5, ge=0)  # std of the Gaussian noise on the input of D's later layers
    data_init: bool = False  # weight norm initialised from unlabelled images as the paper (else: row norms sqrt 2)
    train_hidden_scale: bool = False  # train the weight norm's scale g of D's hidden layers (the paper: fixed)
    z_dim: int = Field(100, gt=0)
    g_arch: Literal["mlp", "dcgan"] = "mlp"  # G: the paper's MLP, or gankit's DCGAN generator (28x28 images)
    g_hidden: list[int] = [500, 500]  # mlp: G's hidden layers
    g_width: int = Field(32, gt=0)  # dcgan: channels of G's last hidden layer (doubling towards the 7x7 base)
    lr: float = Field(0.003, gt=0)  # Adam, both players
    beta1: float = Field(0.5, ge=0, lt=1)
    decay_from: float = Field(0.5, ge=0, le=1)  # the learning rate falls linearly to 0 from this fraction of the run


def check_ssgan(cfg: RunConfig) -> None:
    """Cross-section checks of an ssgan run config (a ValueError names the key)."""
    if cfg.eval.eval_every and cfg.eval.best_metric != "val_acc":
        raise ValueError(f"eval.best_metric={cfg.eval.best_metric}: method ssgan scores val_acc only")
    if not cfg.ssgan.hidden:
        raise ValueError("ssgan.hidden: the classifier needs at least one hidden layer (feature matching reads it)")


def make_generator(s: SSGANConfig, shape: tuple[int, ...]) -> torch.nn.Module:
    """G: the paper's MLP (``g_arch: mlp``) or gankit's DCGAN generator (``dcgan``; square images of side 28 or a
    power of two), which learns image structure in far fewer steps than the MLP."""
    if s.g_arch == "mlp":
        return SSGenerator(s.z_dim, shape, tuple(s.g_hidden))
    return DCGANGenerator(s.z_dim, img_size=shape[-1], channels=shape[0], width=s.g_width)


# ----------------------------------------------------------------------------- the data


def validation_split(n: int, val_size: int, seed: int = VAL_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (rest, validation) of ``n`` items: a permutation seeded by ``seed``, its first ``val_size`` held out."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[val_size:].sort().values, perm[:val_size].sort().values


def labelled_indices(y: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """``per_class`` positions of each class in ``y``, drawn without replacement by a generator seeded by ``seed``.

    Raises:
        UserError: when a class has fewer than ``per_class`` items.
    """
    gen = torch.Generator().manual_seed(seed)
    chosen = []
    for k in range(int(y.max()) + 1):
        where = (y == k).nonzero().view(-1)
        if len(where) < per_class:
            raise UserError(f"ssgan.labels_per_class={per_class}: class {k} has only {len(where)} training images")
        chosen.append(where[torch.randperm(len(where), generator=gen)[:per_class]])
    return torch.cat(chosen).sort().values


def semi_supervised_parts(train: TensorData, labels_per_class: int, val_size: int, seed: int) -> dict[str, TensorData]:
    """The training split cut into ``labelled``, ``unlabelled`` (all but validation, labels dropped) and
    ``validation`` parts (see the module docstring)."""
    if val_size >= len(train):
        raise UserError(f"ssgan.val_size={val_size}: the training split of {train.name} has only {len(train)} images")
    y = train.y
    assert y is not None  # a labelled dataset (the method's check)
    rest, val = validation_split(len(train), val_size)
    lab = rest[labelled_indices(y[rest], labels_per_class, seed)]

    def part(idx: torch.Tensor, labels: bool, name: str) -> TensorData:
        return TensorData(train.x[idx], y[idx] if labels else None, list(train.classes), f"{train.name} {name}")

    return {"labelled": part(lab, True, "labelled"), "unlabelled": part(rest, False, "unlabelled"),
            "validation": part(val, True, "validation")}  # fmt: skip


def accuracy(D: SSClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    """Classification accuracy of D's K logits on (x, y), in eval mode (no noise)."""
    return float((D.predict(x) == y.to(x.device)).float().mean())


# ----------------------------------------------------------------------------- the method


class SSGAN:
    """D (a K-way classifier) and G with Adam, on a labelled and an unlabelled stream; ``supervised`` has no G."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        if not spec.num_classes or len(spec.shape) != 3:
            raise UserError(
                f"method ssgan: data.name={cfg.data.name} is not a labelled image dataset (fashion-mnist, mnist-5k)"
            )
        s = self.cfg = cfg.ssgan
        self.device, self.seed, self.steps = device, cfg.data.seed, cfg.train.steps
        self.D = SSClassifier(
            spec.shape,
            spec.num_classes,
            s.arch,
            tuple(s.hidden),
            s.width,
            s.input_noise,
            s.hidden_noise,
            s.train_hidden_scale,
        ).to(device)
        betas = (s.beta1, 0.999)
        self.D_params = [p for p in self.D.parameters() if p.requires_grad]  # not the fixed scales
        self.opt_D = torch.optim.Adam(self.D_params, lr=s.lr, betas=betas)
        self.modules: dict[str, nn.Module] = {"D": self.D}
        self.optimizers: dict[str, torch.optim.Optimizer] = {"D": self.opt_D}
        n_labelled = s.labels_per_class * spec.num_classes
        self.images_per_step = min(cfg.train.batch_size, n_labelled)
        if s.variant == "ssgan":
            self.z_dim = s.z_dim  # the generator protocol (the supervised variant has no G, so no z_dim)
            self.G = make_generator(s, spec.shape).to(device)
            self.opt_G = torch.optim.Adam(self.G.parameters(), lr=s.lr, betas=betas)
            self.modules["G"], self.optimizers["G"] = self.G, self.opt_G
            self.images_per_step += 2 * cfg.train.batch_size  # an unlabelled batch for D's step and one for G's
            # The preview's latents: their own generator, so training's random stream is untouched.
            gen = torch.Generator().manual_seed(cfg.train.seed + 1_000_003)
            self.z_preview = torch.randn(PREVIEW_ROWS * PREVIEW_ROWS, s.z_dim, generator=gen)
        self.t = 0  # steps taken: the clock of the learning-rate schedule
        self.setup_modules()

    def setup(self, ctx) -> None:
        """Carve the labelled, unlabelled and validation parts from ``train`` and take a stream of each of the first
        two; D (and G) train through the context's wrapper."""
        parts = semi_supervised_parts(ctx.data.part("train"), self.cfg.labels_per_class, self.cfg.val_size, self.seed)
        for name in ("labelled", "unlabelled"):
            ctx.add_part(name, parts[name])
        n_labelled = len(parts["labelled"])
        labelled_batch = min(ctx.batch_size, n_labelled - n_labelled % ctx.world_size)
        self.labelled = ctx.stream("labelled", labelled_batch)
        if self.cfg.variant == "ssgan":
            self.unlabelled = ctx.stream("unlabelled", seed=ctx.seed + 7919)
        if self.cfg.data_init:  # the same images on every process and every run of a seed
            unl = parts["unlabelled"].x
            pick = torch.randperm(len(unl), generator=torch.Generator().manual_seed(self.seed))[:INIT_IMAGES]
            init_from_data(self.D, unl[pick].to(self.device))
        val = parts["validation"]
        assert val.y is not None  # the validation part keeps its labels
        self.x_val, self.y_val = val.x.to(self.device), val.y.to(self.device)
        self.setup_modules(ctx.rank, ctx.world_size, ctx.wrap, ctx.fp16)

    def setup_modules(self, rank: int = 0, world_size: int = 1, wrap=lambda m: m, fp16: bool = False) -> None:
        # D trains through its wrapper (DDP) in D's step; in G's step it is frozen and called unwrapped.
        self.rank, self.world_size = rank, world_size
        self.D_train = wrap(self.D)
        self.G_train: Any = wrap(self.G) if hasattr(self, "G") else None  # None: the supervised variant
        self.scalers: dict[str, Any] = {
            k: torch.amp.GradScaler(self.device.type) if fp16 else None for k in self.optimizers
        }

    def noise(self, n: int) -> torch.Tensor:
        """This process's share of a global batch of latents (every rank draws the same batch, keeping the RNGs
        in step, and takes its slice)."""
        z = torch.randn(n * self.world_size, self.z_dim, device=self.device)
        return z[self.rank :: self.world_size]

    def learning_rate(self) -> float:
        """``lr``, falling linearly to 0 from ``decay_from`` of the run to its end."""
        p, start = self.t / max(1, self.steps), self.cfg.decay_from
        return self.cfg.lr * min(1.0, (1.0 - p) / max(1e-8, 1.0 - start))

    def step(self) -> dict[str, torch.Tensor]:
        lr = self.learning_rate()
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr
        batch = next(self.labelled)
        x_l, y_l = batch["x"], batch["y"]
        stats = self.ssgan_step(x_l, y_l) if self.cfg.variant == "ssgan" else self.supervised_step(x_l, y_l)
        self.t += 1
        return stats | {"lr": torch.tensor(lr)}

    def supervised_step(self, x_l: torch.Tensor, y_l: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self.D_train(x_l)
        loss = supervised_loss(logits, y_l)
        update(self.opt_D, loss, self.scalers["D"])
        return {"d_supervised": loss.detach(), "train_acc": (logits.detach().argmax(1) == y_l).float().mean()}

    def ssgan_step(self, x_l: torch.Tensor, y_l: torch.Tensor) -> dict[str, torch.Tensor]:
        x_u = next(self.unlabelled)["x"]
        with torch.no_grad():
            x_fake = self.G(self.noise(len(x_u)))
        # One pass over the three batches: D has no batch norm, so they cannot leak statistics into each other.
        logits = self.D_train(torch.cat([x_l, x_u, x_fake]))
        l_lab, l_unl, l_fake = logits.split([len(x_l), len(x_u), len(x_fake)])
        sup = supervised_loss(l_lab, y_l)
        unsup = d_unsupervised_loss(l_unl, l_fake)
        entropy = conditional_entropy(l_unl)
        loss_D = sup + self.cfg.unsupervised_weight * unsup + self.cfg.entropy_weight * entropy
        update(self.opt_D, loss_D, self.scalers["D"])

        # G's step: feature matching against a fresh unlabelled batch, through a frozen D.
        x_u2 = next(self.unlabelled)["x"]
        for p in self.D_params:
            p.requires_grad_(False)
        with torch.no_grad():
            f_real = self.D.features(x_u2)
        f_fake = self.D.features(self.G_train(self.noise(len(x_u2))))
        loss_G = feature_matching_loss(f_real, f_fake)
        update(self.opt_G, loss_G, self.scalers["G"])
        for p in self.D_params:
            p.requires_grad_(True)
        with torch.no_grad():
            d_real = torch.sigmoid(torch.logsumexp(l_unl.detach(), 1)).mean()  # mean D(x_u) = Z / (Z + 1)
            d_fake = torch.sigmoid(torch.logsumexp(l_fake.detach(), 1)).mean()
        return {
            "d_supervised": sup.detach(),
            "d_unsupervised": unsup.detach(),
            "d_entropy": entropy.detach(),
            "g_feature_matching": loss_G.detach(),
            "d_real": d_real,
            "d_fake": d_fake,
            "train_acc": (l_lab.detach().argmax(1) == y_l).float().mean(),
        }

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """G(z) in eval mode (batch norm with running statistics); ``cond`` is ignored (G is unconditional)."""
        with eval_mode(self.G):
            return self.G(z.to(self.device))

    @torch.no_grad()
    def sample(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(z, cond)

    def preview(self) -> Preview:
        """ssgan: a grid of G's samples (fixed latents). supervised: validation images by predicted class, a row
        per class (what the classifier has learnt, as DANN's preview)."""
        if self.cfg.variant == "ssgan":
            return samples_preview(self.sample(self.z_preview), nrow=PREVIEW_ROWS)
        x = self.x_val[:2000]
        pred = self.D.predict(x).cpu()
        rows = []
        for k in range(self.D.num_classes):
            shown = x[pred == k][:PREVIEW_ROWS].cpu()
            blank = torch.ones(PREVIEW_ROWS - len(shown), *x.shape[1:])  # white cells where a class has fewer
            rows.append(torch.cat([shown, blank]))
        return Preview("images", torch.cat(rows), nrow=PREVIEW_ROWS)

    def evaluate(self) -> dict[str, float]:
        """Accuracy on the validation split (never the test split)."""
        return {"val_acc": accuracy(self.D, self.x_val, self.y_val)}

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Class indices of images ``x`` (D's K logits, eval mode)."""
        return self.D.predict(x.to(self.device)).cpu()

    def state_dict(self) -> dict[str, Any]:
        scalers = {k: s.state_dict() for k, s in self.scalers.items() if s is not None}
        return {"t": self.t, "scalers": scalers}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t = int(state.get("t", 0))
        for k, s in state.get("scalers", {}).items():
            if self.scalers.get(k) is not None:
                self.scalers[k].load_state_dict(s)


register_direction("val_acc", higher_is_better=True)

# A run of a few seconds on Fashion-MNIST (labelled, offline) for the conformance test.
SMOKE = [
    "data.name=fashion-mnist",
    "ssgan.labels_per_class=2",
    "ssgan.val_size=200",
    "ssgan.hidden=[32,16]",
    "ssgan.g_hidden=[32]",
    "ssgan.z_dim=8",
    "train.batch_size=16",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
    "eval.eval_every=4",
    "eval.best_metric=val_acc",
]


@register_method(
    "ssgan", sections={"ssgan": SSGANConfig}, check=check_ssgan, smoke=SMOKE, label=lambda cfg: cfg.ssgan.variant
)
def build(cfg, spec: DataSpec, device: torch.device) -> SSGAN:
    """The semi-supervised GAN or its supervised baseline (``ssgan.variant``) for ``spec``."""
    return SSGAN(cfg, spec, device)
