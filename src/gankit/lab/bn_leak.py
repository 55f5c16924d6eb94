"""``bn-leak``: with batch norm in training mode, D tells all-real from all-fake batches by their statistics
alone, even when every single fake sample is a real image; the remedies take that away.

Seed slide: "Also need to be careful how you use Batch Normalization. (Don't let the discriminator use batch
statistics to tell real and fake apart!)"; Salimans et al. 2016, Sec. 3.4 (virtual batch norm).

The case is built so that the leak is provable. The "generator" (:class:`ClassHoppingG`) is a collapsed G that
hops between modes: each batch it draws one Fashion-MNIST class uniformly and returns real images of that
class, drawn uniformly. One sample at a time it is the data distribution itself (the classes are balanced), so
no function of a single image beats chance: any per-sample D has accuracy exactly 1/2 in expectation. Only a
batch betrays it (one class instead of ten). D is gankit's DCGAN discriminator for 28 x 28 (one BatchNorm2d),
trained with the BCE loss by gankit's ``d_step`` on all-real and all-fake batches in separate passes, as a
GAN trains it, and measured twice on held-out images: a validation split of 10,000 images carved from the
training split by a seeded permutation (D trains on the other 50,000; the test split is never read):

- ``batch_acc``: the fraction of samples D classifies right (logit > 0 for real) when they come as D is
  trained on them: all-real and all-fake batches of 64, training mode (the arm "one pass": mixed batches).
  The fake batches are stratified over the classes (the same number per class), so this is G's expectation.
- ``single_acc``: the same for samples judged one at a time: D in eval mode (running statistics), where its
  output for a sample does not depend on the rest of the batch (checked: ``single_vs_batched_gap``).

Arms (:data:`ARMS`): batch norm in training mode (the leak); the same D judged in eval mode; batch norm with
real and fake in one pass (their statistics shared, but G's batch still over-represents one class); virtual
batch norm (:mod:`gankit.nets.vbn`, the reference batch a fixed real batch); layer norm; instance norm; no
normalisation; spectral norm with the batch norm removed. Every arm has the same D, steps and data.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gankit.data import TensorData, load_dataset
from gankit.lab.common import plt, savefig
from gankit.lab.registry import register_experiment
from gankit.losses import LOSSES
from gankit.methods.gan import d_step, update
from gankit.nets import DCGANDiscriminator
from gankit.nets.spectral import apply_spectral_norm
from gankit.nets.vbn import ReferenceBatch, convert_batchnorm

BATCH = 64
WIDTH = 16  # channels of D's first block (DCGAN at 28 x 28: conv 16 -> conv 32 + batch norm -> 7 x 7 head)
LR = 2e-3  # Adam, betas (0.5, 0.999); 10x lower for the last quarter of the steps, so that D settles


@dataclass(frozen=True)
class Arm:
    label: str  # on the figure
    norm: str  # what replaces D's batch norm: batch, virtual, layer, instance, none, spectral
    joint: bool = False  # real and fake in one pass through D (training and batch-level measurement)
    judge_eval: bool = False  # the batch-level measurement in eval mode (running statistics)


ARMS = {
    "batchnorm": Arm("batch norm (train mode)", "batch"),
    "batchnorm_eval": Arm("batch norm, judged in eval mode", "batch", judge_eval=True),
    "batchnorm_joint": Arm("batch norm, real + fake in one pass", "batch", joint=True),
    "virtual_batchnorm": Arm("virtual batch norm", "virtual"),
    "layernorm": Arm("layer norm", "layer"),
    "instancenorm": Arm("instance norm", "instance"),
    "no_norm": Arm("no normalisation", "none"),
    "spectral_norm": Arm("spectral norm (no batch norm)", "spectral"),
}


class ClassHoppingG(nn.Module):
    """A collapsed G that hops between modes: each call returns ``len(z)`` real images of one class, the class
    and the images drawn uniformly (z's values are ignored). One sample at a time this is p_data exactly."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator):
        super().__init__()
        self.x, self.generator = x, generator
        self.by_class = [torch.nonzero(y == c).view(-1) for c in range(int(y.max()) + 1)]

    def batch_of(self, c: int, n: int) -> torch.Tensor:
        idx = self.by_class[c]
        return self.x[idx[torch.randint(len(idx), (n,), generator=self.generator)]]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.batch_of(int(torch.randint(len(self.by_class), (1,), generator=self.generator)), len(z))


def real_batch(x: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    return x[torch.randint(len(x), (n,), generator=generator)]


def discriminator(norm: str) -> nn.Module:
    """The DCGAN D with its batch norm kept, made virtual (the reference batch is set by the caller), or replaced."""
    D = DCGANDiscriminator(28, 1, width=WIDTH)
    if norm == "virtual":
        convert_batchnorm(D)
    elif norm != "batch":
        for parent in list(D.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, nn.BatchNorm2d):
                    c = child.num_features
                    new = {"layer": nn.GroupNorm(1, c), "instance": nn.InstanceNorm2d(c, affine=True)}.get(norm)
                    setattr(parent, name, new if new is not None else nn.Identity())  # none, spectral
        if norm == "spectral":
            apply_spectral_norm(D)
    return D


def joint_d_step(G, D, opt, loss, x_real, z) -> None:
    """A D step with real and fake in one pass: batch norm normalises them with shared statistics."""
    with torch.no_grad():
        x_fake = G(z)
    logits = D(torch.cat([x_real, x_fake]))  # [2N]
    update(opt, loss.d(logits[: len(x_real)], logits[len(x_real) :]))


def train_d(arm: Arm, train, steps: int, seed: int, eval_fn=None, eval_every: int = 0):
    """D trained against :class:`ClassHoppingG` on the training split; returns D and [(step, batch_acc)]."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    D = discriminator(arm.norm)
    if arm.norm == "virtual":  # the reference: a fixed real batch, drawn once (as gankit's trick: the first one)
        ReferenceBatch(D, real_batch(train.x, BATCH, gen))  # its forward hook on D keeps it alive
    opt = torch.optim.Adam(D.parameters(), lr=LR, betas=(0.5, 0.999))
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [int(steps * 0.75)], gamma=0.1)
    G, loss = ClassHoppingG(train.x, train.y, gen), LOSSES["minimax"]
    step_fn = joint_d_step if arm.joint else d_step
    curve = []
    for step in range(1, steps + 1):
        step_fn(G, D, opt, loss, real_batch(train.x, BATCH, gen), torch.zeros(BATCH, 1))
        sched.step()
        if eval_fn is not None and (step % eval_every == 0 or step == 1):
            curve.append((step, eval_fn(D, arm)))
    return D, curve


@torch.no_grad()
def batch_accuracy(D: nn.Module, arm: Arm, test, per_class: int, seed: int) -> float:
    """Accuracy on samples that come in all-real / all-fake batches (one mixed batch each when ``arm.joint``),
    D in training mode (eval mode when ``arm.judge_eval``); ``per_class`` fake batches per class."""
    D = copy.deepcopy(D).train(not arm.judge_eval)  # a copy: the measurement must not move the running statistics
    gen = torch.Generator().manual_seed(seed)
    G = ClassHoppingG(test.x, test.y, gen)
    right = []
    for c in range(len(G.by_class)):
        for _ in range(per_class):
            x_real, x_fake = real_batch(test.x, BATCH, gen), G.batch_of(c, BATCH)
            if arm.joint:
                logits = D(torch.cat([x_real, x_fake]))
                real_logits, fake_logits = logits[:BATCH], logits[BATCH:]
            else:
                real_logits, fake_logits = D(x_real), D(x_fake)
            right += [(real_logits > 0).float().mean(), (fake_logits < 0).float().mean()]
    return float(torch.stack(right).mean())


@torch.no_grad()
def single_accuracy(D: nn.Module, test, n: int, seed: int) -> tuple[float, float]:
    """Accuracy on ``n`` real and ``n`` fake samples judged one at a time (D in eval mode), and the largest gap
    between D's eval-mode outputs in a batch and one at a time (on 8 samples: 0 up to float error)."""
    D = copy.deepcopy(D).eval()
    gen = torch.Generator().manual_seed(seed)
    G = ClassHoppingG(test.x, test.y, gen)
    x_real = real_batch(test.x, n, gen)
    x_fake = torch.cat([G(torch.zeros(1, 1)) for _ in range(n)])  # one G call per sample: a class each
    real_logits, fake_logits = D(x_real), D(x_fake)
    alone = torch.cat([D(x_fake[i : i + 1]) for i in range(8)])
    gap = float((alone - fake_logits[:8]).abs().max())
    return float(torch.cat([(real_logits > 0).float(), (fake_logits < 0).float()]).mean()), gap


def _figure(arms: dict, curves: dict, steps: int, out: Path) -> str:
    pyplot = plt()
    fig, (ax1, ax2) = pyplot.subplots(1, 2, figsize=(14, 5.2), gridspec_kw={"width_ratios": [1.35, 1]})
    names = list(arms)
    pos = np.arange(len(names))
    batch = [arms[k]["batch_acc"] for k in names]
    single = [arms[k]["single_acc"] for k in names]
    batch_label = "batch-level: samples in all-real / all-fake batches, as D trains"
    ax1.barh(pos - 0.2, batch, 0.4, color="0.25", label=batch_label)
    ax1.barh(pos + 0.2, single, 0.4, color="0.7", label="single-sample: one at a time, eval mode")
    for p, b, s in zip(pos, batch, single):  # values right of the bar, or of the chance line when below it
        ax1.text(max(b, 0.5) + 0.006, p - 0.2, f"{b:.3f}", va="center", fontsize=8)
        ax1.text(max(s, 0.5) + 0.006, p + 0.2, f"{s:.3f}", va="center", fontsize=8)
    ax1.axvline(0.5, color="k", ls="--", lw=1, label="chance (0.5): the best any per-sample D can do here")
    ax1.set_yticks(pos, [ARMS[k].label for k in names])
    ax1.invert_yaxis()
    ax1.set_xlim(0.4, 1.08)
    ax1.set_xlabel("D's accuracy on held-out real vs fake samples (fraction classified right)")
    ax1.set_title("Every fake sample is a real image; only the batch (one class) betrays it", fontsize=10)
    ax1.legend(fontsize=8, loc="lower right")
    for i, k in enumerate(names):
        if k in curves:  # (the eval-mode arm has no curve of its own: it is the batch-norm D)
            s, a = zip(*curves[k])
            ax2.plot(s, a, color=f"C{i}", lw=2 if k == "batchnorm" else 1, label=ARMS[k].label)
    ax2.axhline(0.5, color="k", ls="--", lw=1, label="chance")
    ax2.set_xlim(0, steps)
    ax2.set_ylim(0.1, 1.02)
    ax2.set_xlabel("D steps (batch of 64 real + 64 fake each)")
    ax2.set_ylabel("batch-level accuracy (held-out, fraction)")
    ax2.set_title("Batch-level accuracy over training (1 batch per class and side)", fontsize=10)
    ax2.legend(fontsize=7, loc="lower right")
    fig.suptitle(
        "D with batch norm tells all-real from all-fake batches, not single samples "
        "(Fashion-MNIST, DCGAN D, G hops between classes)",
        fontsize=11,
    )
    fig.tight_layout()
    return savefig(fig, out / "bn_leak.png")


def _batches_figure(test, seed: int, out: Path) -> str:
    """A real batch and a fake one side by side: each fake image is a real one, the batch is one class."""
    gen = torch.Generator().manual_seed(seed)
    G = ClassHoppingG(test.x, test.y, gen)
    pyplot = plt()
    fig, axes = pyplot.subplots(1, 2, figsize=(10, 2.9))
    for ax, x, title in zip(
        axes,
        (real_batch(test.x, 32, gen), G(torch.zeros(32, 1))),
        ("a real batch (10 classes)", "a fake batch from the class-hopping G (one class)"),
    ):
        grid = x[:, 0].reshape(4, 8, 28, 28).permute(0, 2, 1, 3).reshape(4 * 28, 8 * 28)
        ax.imshow((grid.numpy() + 1) / 2, cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.tight_layout()
    return savefig(fig, out / "bn_leak_batches.png")


def _train_and_validation(full: TensorData, n_val: int = 10_000) -> tuple[TensorData, TensorData]:
    """The training split cut into (training, validation) by a permutation seeded once for all runs."""
    perm = torch.randperm(len(full), generator=torch.Generator().manual_seed(20_161_201))
    assert full.y is not None  # fashion-mnist is labelled
    part = lambda idx: TensorData(full.x[idx], full.y[idx], full.classes, full.name)  # noqa: E731
    return part(perm[n_val:]), part(perm[:n_val])


@register_experiment(
    "bn-leak",
    headline=("batchnorm_batch_acc", "batchnorm_single_acc", "remedies_batch_acc"),
    summary="batch norm lets D tell all-real from all-fake batches; VBN, layer/instance/no norm, SN do not",
)
def run(out: Path, quick: bool = False, seed: int = 0) -> dict:
    t0 = time.perf_counter()
    train, test = _train_and_validation(load_dataset("fashion-mnist", split="train"))  # "test": held-out validation
    steps, per_class, n_single = (200, 5, 2000) if quick else (1500, 20, 4000)
    every = steps // (5 if quick else 30)

    def monitor(D, arm):  # the curve: a cheaper batch-level measurement (one batch per class)
        return batch_accuracy(D, arm, test, 1, seed + 7)

    arms: dict[str, dict] = {}
    curves: dict[str, list] = {}
    trained: dict[str, nn.Module] = {}
    for key, arm in ARMS.items():
        t = time.perf_counter()
        if arm.judge_eval:  # the same D as the batch-norm arm, judged in eval mode
            D = trained["batch"]
        else:
            D, curves[key] = train_d(arm, train, steps, seed, monitor, every)
            trained.setdefault(arm.norm, D)
        single, gap = single_accuracy(D, test, n_single, seed + 11)
        arms[key] = {
            "batch_acc": batch_accuracy(D, arm, test, per_class, seed + 13),
            "single_acc": single,
            "single_vs_batched_gap": gap,
            "seconds": time.perf_counter() - t,
        }
    remedies = {k: v["batch_acc"] for k, v in arms.items() if k != "batchnorm"}
    at_chance = [k for k, a in remedies.items() if abs(a - 0.5) <= 0.05]
    figures = [_figure(arms, curves, steps, out), _batches_figure(test, seed, out)]
    return {
        "batchnorm_batch_acc": arms["batchnorm"]["batch_acc"],
        "batchnorm_single_acc": arms["batchnorm"]["single_acc"],
        "remedies_batch_acc": remedies,
        "remedies_at_chance": at_chance,
        "arms": arms,
        "curves": {k: [list(p) for p in c] for k, c in curves.items()},
        "setup": {
            "data": "fashion-mnist",
            "d": f"dcgan 28x28 width {WIDTH}",
            "batch": BATCH,
            "steps": steps,
            "lr": LR,
            "loss": "minimax (BCE)",
            "seed": seed,
            "fake_batches_per_class": per_class,
            "single_samples_per_side": n_single,
        },
        "seconds": time.perf_counter() - t0,
        "figures": figures,
    }
