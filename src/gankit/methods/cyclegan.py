"""CycleGAN (method: cyclegan): unpaired image-to-image translation (Zhu et al. 2017).

Two generators, G: A -> B and F: B -> A (residual nets, nets/translation.py), and two PatchGAN discriminators, D_B
(real b vs G(a)) and D_A (real a vs F(b)). Without pairs, an adversarial loss alone would let G map every a to any
realistic b; the cycle-consistency loss asks F(G(a)) = a and G(F(b)) = b, so the translation must keep what
identifies its input (losses/translation.py). One step, for a batch a of A and a batch b of B (the authors' order):

    G step (D frozen): descend loss.g(D_B(G(a))) + loss.g(D_A(F(b)))
                       + lambda_cyc * L_cyc + lambda_id * L_id                  (lambda_cyc 10, lambda_id 0.5 * 10)
    D step: descend 0.5 * loss.d(D_B(b), D_B(pool_B(G(a)))) + 0.5 * loss.d(D_A(a), D_A(pool_A(F(b))))

with the least-squares loss as published (any of gankit.losses.LOSSES). ``lambda_cyc_b`` weighs the B -> A -> B
cycle apart (default: lambda_cyc, the paper's), for a B that holds more than A can carry: an MNIST digit has no
room for an MNIST-M background, and a full-weight B cycle makes F hide it in its output. ``pool`` is the history of
generated images of Shrivastava et al. 2017 (:class:`ImagePool`, 50 images): D sees a mix of current and earlier
fakes, which damps oscillation. The learning rate is constant for the first ``decay_start`` of the run, then falls
linearly to 0. ``ema_decay`` > 0 translates with exponential moving averages of G's and F's weights (Yazici et
al. 2019), as pix2pix's option; training never reads them.

Data, either
  * a domain pair: ``data.name=A data.target=B`` (e.g. mnist and mnist-m, gankit.data.domains): A the ``source``
    part, B the ``target`` part; or
  * two class filters of one labelled dataset: ``cyclegan.classes_a`` / ``classes_b`` name classes of ``train``
    (Fashion-MNIST ``[Sneaker]`` and ``["Ankle boot"]``; a ``folder:PATH`` with sub-folders ``A/`` and ``B/``).
``val_size`` images of each domain are held out for scores (``eval.eval_every``): ``cycle_l1`` (mean |F(G(a)) - a|
and |G(F(b)) - b|), and with a shipped classifier for the data: for class filters ``a2b_accuracy`` (translations
of A it calls a class of B) and ``b2a_accuracy``; for a pair with shared labels ``a2b_label_kept`` and
``b2a_label_kept`` (translations it calls their source's label).
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import torch
from pydantic import Field, field_validator, model_validator

from gankit.config import Section
from gankit.data import DataSpec, TensorData
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.losses.translation import cycle_consistency, identity
from gankit.methods.pix2pix import _default_classifier
from gankit.methods.registry import register_method
from gankit.methods.schedule import lr_factor
from gankit.methods.tricks.g_side import ema_decay_at, ema_update
from gankit.metrics.scoring import register_direction
from gankit.nets.modes import eval_mode
from gankit.nets.translation import PatchGAN, ResnetGenerator, patch_layers
from gankit.previews import Preview


class CycleGANConfig(Section):
    """CycleGAN (method: cyclegan)."""

    width: int = Field(64, gt=0)  # generators' first channels (paper: 64)
    blocks: int = Field(6, ge=0)  # residual blocks (paper: 6 at 128 px, 9 at 256)
    downsamplings: int = Field(2, ge=0, le=2)  # generators' halvings before the blocks (paper: 2); fewer: more local
    downsamplings_b: int | None = Field(None, ge=0, le=2)  # F's (B -> A) halvings apart; None: downsamplings
    d_width: int = Field(64, gt=0)  # discriminators' first channels (paper: 64)
    d_layers: int | None = Field(None, ge=0)  # PatchGAN stride-2 layers; None: scaled from 70 x 70 at 256 px
    lambda_cyc: float = Field(10.0, ge=0)  # (paper: 10)
    lambda_cyc_b: float | None = Field(None, ge=0)  # the B -> A -> B cycle's weight; None: lambda_cyc (paper)
    lambda_id: float = Field(5.0, ge=0)  # (paper: 0.5 * lambda_cyc where used)
    loss: str = "lsgan"  # the adversarial loss, a name in gankit.losses.LOSSES (paper: least squares)
    lr: float = Field(2e-4, gt=0)  # Adam, all four nets (paper: 2e-4)
    betas: tuple[float, float] = (0.5, 0.999)
    decay_start: float = Field(0.5, ge=0, le=1)  # fraction of train.steps at the base rate, then linear to 0
    pool_size: int = Field(50, ge=0)  # the history of generated images per domain (paper: 50); 0: none
    ema_decay: float = Field(0.0, ge=0, lt=1)  # > 0: translate with EMAs of G's and F's weights (0: the nets, paper)
    classes_a: list[str] = Field(default_factory=list)  # class filters of ``train`` (empty: a pair, data.target)
    classes_b: list[str] = Field(default_factory=list)
    val_size: int = Field(256, ge=1)  # images of each domain held out for validation scores
    extractor: str | None = None  # classifier for the scores; None: the data's shipped classifier, if any

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, v: str) -> str:
        if v not in LOSSES or LOSSES[v].autoencoder or LOSSES[v].critic or LOSSES[v].g_uses_real:
            raise ValueError(f"unknown or unsupported loss '{v}' (known: minimax, non-saturating, lsgan, hinge)")
        return v

    @model_validator(mode="after")
    def _b_cycle_needs_a_cycle(self):
        if self.lambda_cyc_b is not None and self.lambda_cyc_b != self.lambda_cyc and self.lambda_cyc == 0:
            raise ValueError("lambda_cyc_b: set lambda_cyc > 0 too (the B cycle is weighed relative to it)")
        return self


class ImagePool:
    """The history buffer of Shrivastava et al. 2017 as CycleGAN uses it: until ``size`` images are stored each
    query image is stored and returned; after that, each is, with probability 1/2, swapped for a random stored
    image (which is returned in its place), else returned as it is. Its draws come from its own generator, and
    :meth:`state_dict` holds the images and that generator's state, so a resumed run draws the same."""

    def __init__(self, size: int, seed: int):
        self.size, self.images = size, list[torch.Tensor]()
        self.generator = torch.Generator().manual_seed(seed)

    def query(self, x: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return x
        out = []
        for img in x.detach():
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif torch.rand((), generator=self.generator) < 0.5:
                i = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[i])
                self.images[i] = img.clone()
            else:
                out.append(img)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        return {"images": [im.cpu() for im in self.images], "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any], device: torch.device) -> None:
        self.images = [im.to(device) for im in state["images"]]
        self.generator.set_state(state["generator"])


class CycleGAN:
    """G_AB, G_BA, D_A, D_B; one Adam for both generators and one for both discriminators (as the authors)."""

    def __init__(self, cfg, spec: DataSpec, device: torch.device):
        if spec.kind != "image":
            raise UserError(f"method cyclegan: needs images, and {cfg.data.name} holds {spec.kind}")
        c = self.cfg = cfg.cyclegan
        if bool(c.classes_a) != bool(c.classes_b) or (not c.classes_a and cfg.data.target is None):
            raise UserError("cyclegan: give both cyclegan.classes_a and classes_b, or a domain pair with data.target")
        self.device, self.channels, self.size = device, spec.shape[0], spec.shape[-1]
        f_halvings = c.downsamplings if c.downsamplings_b is None else c.downsamplings_b
        halvings = {"G_AB": c.downsamplings, "G_BA": f_halvings}
        multiple = 2 ** max(halvings.values())
        if self.size % multiple or spec.shape[1] != self.size:
            raise UserError(f"method cyclegan: needs square images with a side divisible by {multiple} "
                            f"(cyclegan.downsamplings: {c.downsamplings}), got {spec.shape[1:]}")
        self.G_AB, self.G_BA = (ResnetGenerator(self.channels, c.width, c.blocks, halvings[k]).to(device)
                                for k in ("G_AB", "G_BA"))
        layers = patch_layers(self.size) if c.d_layers is None else c.d_layers
        if self.size // 2**layers < 3:
            raise UserError(f"cyclegan.d_layers: {layers} stride-2 layers leave no patches of {self.size}-pixel images")
        self.D_A, self.D_B = (PatchGAN(self.channels, c.d_width, layers, norm="instance").to(device) for _ in range(2))
        betas = tuple(c.betas)
        self.opt_G = torch.optim.Adam(itertools.chain(self.G_AB.parameters(), self.G_BA.parameters()), c.lr, betas)
        self.opt_D = torch.optim.Adam(itertools.chain(self.D_A.parameters(), self.D_B.parameters()), c.lr, betas)
        self.modules = {"G_AB": self.G_AB, "G_BA": self.G_BA, "D_A": self.D_A, "D_B": self.D_B}
        # Averages of the generators' weights translate in their place when kept (the checkpoint saves them as
        # modules); the loop trains ``train_nets``, set below, so they are never trained.
        self.ema: dict[str, torch.nn.Module] = {}
        self.ema_steps = 0
        if c.ema_decay > 0:
            self.ema = {k: copy.deepcopy(self.modules[k]).requires_grad_(False) for k in ("G_AB", "G_BA")}
        self.optimizers = {"G": self.opt_G, "D": self.opt_D}
        f = lambda t: lr_factor("linear", t, cfg.train.steps, c.decay_start, 0.0)  # noqa: E731
        self.schedulers = {k: torch.optim.lr_scheduler.LambdaLR(o, f) for k, o in self.optimizers.items()}
        self.loss = LOSSES[c.loss]
        self.pools = {k: ImagePool(c.pool_size, cfg.train.seed + 50 + i) for i, k in enumerate("AB")}
        self.images_per_step = 2 * cfg.train.batch_size
        self.train_nets = dict(self.modules)
        self.modules |= {f"{k}_ema": m for k, m in self.ema.items()}
        self.extractor = c.extractor or _default_classifier(cfg.data.name)
        self.num_preview = min(8, cfg.train.num_samples)
        self.val: dict[str, torch.Tensor] = {}
        self.classes_a_idx: list[int] = []
        self.classes_b_idx: list[int] = []

    def setup(self, ctx) -> None:
        """Split the domains (pair parts or class filters), hold out ``val_size`` images of each, stream the rest."""
        a, b = self._domains(ctx.data)
        for name, data in (("A", a), ("B", b)):
            if len(data) <= self.cfg.val_size:
                n = len(data)
                raise UserError(f"cyclegan.val_size: {self.cfg.val_size} leaves no images of domain {name} ({n})")
            order = torch.randperm(len(data), generator=torch.Generator().manual_seed(2017))
            val, rest = order[: self.cfg.val_size], order[self.cfg.val_size :]
            ctx.add_part(f"cycle_{name}", TensorData(data.x[rest], None if data.y is None else data.y[rest],
                                                     data.classes, data.name))
            self.val[name] = data.x[val].to(self.device)
            if data.y is not None:
                self.val[f"y{name}"] = data.y[val]
        self.streams = {k: ctx.stream(f"cycle_{k}", seed=ctx.seed + i) for i, k in enumerate("AB")}
        self.train_nets = {k: ctx.wrap(m) for k, m in self.train_nets.items()}  # the four trained nets, not the EMAs

    def _domains(self, data) -> tuple[TensorData, TensorData]:
        if not self.cfg.classes_a:
            return data.part("source"), data.part("target")
        train = data.part("train")
        out = []
        for names in (self.cfg.classes_a, self.cfg.classes_b):
            unknown = [n for n in names if n not in train.classes]
            if train.y is None or unknown:
                raise UserError(f"cyclegan.classes_a/b: {unknown or names} not among the classes of "
                                f"{train.name} ({', '.join(train.classes) or 'none: unlabelled'})")
            idx = [train.classes.index(n) for n in names]
            keep = torch.isin(train.y, torch.tensor(idx))
            out.append(TensorData(train.x[keep], train.y[keep], train.classes, train.name))
        self.classes_a_idx = [train.classes.index(n) for n in self.cfg.classes_a]
        self.classes_b_idx = [train.classes.index(n) for n in self.cfg.classes_b]
        return out[0], out[1]

    def step(self) -> dict[str, torch.Tensor]:
        a, b = next(self.streams["A"])["x"], next(self.streams["B"])["x"]
        G, F, D_A, D_B = (self.train_nets[k] for k in ("G_AB", "G_BA", "D_A", "D_B"))
        c = self.cfg
        # G step: both generators together, through frozen discriminators.
        self.D_A.requires_grad_(False), self.D_B.requires_grad_(False)
        fake_b, fake_a = G(a), F(b)
        adv = self.loss.g(D_B(fake_b), None) + self.loss.g(D_A(fake_a), None)
        weight_b = 1.0 if c.lambda_cyc_b is None or c.lambda_cyc == 0 else c.lambda_cyc_b / c.lambda_cyc  # B's share
        cyc = cycle_consistency(a, F(fake_b), b, G(fake_a), weight_b)
        loss_G = adv + c.lambda_cyc * cyc
        stats = {"g_adv": adv.detach(), "cycle": cyc.detach()}
        if c.lambda_id > 0:  # identity needs G(b) and F(a): two more passes, skipped when unweighted
            idt = identity(a, F(a), b, G(b))
            loss_G = loss_G + c.lambda_id * idt
            stats["identity"] = idt.detach()
        self.opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
        self.opt_G.step()
        self.D_A.requires_grad_(True), self.D_B.requires_grad_(True)
        # D step: on current and pooled earlier fakes; halved, as published, so D learns slower than G.
        pool_a, pool_b = self.pools["A"].query(fake_a.detach()), self.pools["B"].query(fake_b.detach())
        loss_D = 0.5 * (self.loss.d(D_A(a), D_A(pool_a)) + self.loss.d(D_B(b), D_B(pool_b)))
        self.opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        self.opt_D.step()
        if self.ema:
            for k, m in self.ema.items():
                ema_update(m, self.modules[k], ema_decay_at(c.ema_decay, self.ema_steps))
            self.ema_steps += 1
        for s in self.schedulers.values():
            s.step()
        return {**stats, "d_loss": loss_D.detach()}

    @torch.no_grad()
    def translate(self, x: torch.Tensor, direction: str | None = None) -> torch.Tensor:
        """Images of A (``AtoB``, the default) or of B (``BtoA``) in [-1, 1] -> their translations, in eval mode
        (by the EMA of the generator when ``ema_decay`` > 0)."""
        key = "G_BA" if direction == "BtoA" else "G_AB"
        net = self.ema.get(key, self.modules[key])
        with eval_mode(net):
            return torch.cat([net(xb.to(self.device)) for xb in x.split(256)]).clamp(-1, 1)

    def preview(self) -> Preview:
        """Rows: a | G(a) | F(G(a)), then b | F(b) | G(F(b)) (input | translation | reconstruction)."""
        rows = []
        for src, there, back in (("A", "AtoB", "BtoA"), ("B", "BtoA", "AtoB")):
            x = self.val[src][: self.num_preview // 2 or 1]
            t = self.translate(x, there)
            rows.append(torch.stack([x, t, self.translate(t, back)], 1))
        return Preview("images", torch.cat(rows).flatten(0, 1).cpu(), nrow=3, title="input | translation | cycle")

    def evaluate(self) -> dict[str, float]:
        ab = self.translate(self.val["A"])
        ba = self.translate(self.val["B"], "BtoA")
        scores = {"cycle_l1": float(cycle_consistency(self.val["A"], self.translate(ab, "BtoA"),
                                                      self.val["B"], self.translate(ba)) / 2)}
        return scores | cycle_class_scores(ab.cpu(), ba.cpu(), self.val.get("yA"), self.val.get("yB"),
                                           self.classes_a_idx if self.cfg.classes_a else [], self.classes_b_idx,
                                           self.extractor)

    def state_dict(self) -> dict[str, Any]:
        ema = {"ema_steps": self.ema_steps} if self.ema else {}  # the clock of the EMAs' warm-up
        return ema | {f"pool_{k}": p.state_dict() for k, p in self.pools.items()} | {
            f"lr_schedule_{k}": s.state_dict() for k, s in self.schedulers.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.ema_steps = int(state.get("ema_steps", 0))
        for k, p in self.pools.items():
            if f"pool_{k}" in state:
                p.load_state_dict(state[f"pool_{k}"], self.device)
        for k, s in self.schedulers.items():
            if f"lr_schedule_{k}" in state:
                s.load_state_dict(state[f"lr_schedule_{k}"])


def cycle_class_scores(ab, ba, y_a, y_b, classes_a: list[int], classes_b: list[int], extractor) -> dict[str, float]:
    """What a classifier calls the translations: with class filters, the share of A -> B it puts in B's classes
    (``a2b_accuracy``) and the reverse; with shared labels (a domain pair), the share it calls their source's label
    (``a2b_label_kept``, ``b2a_label_kept``). Empty without a classifier or off its 28-pixel input."""
    from gankit.metrics.extractors import extract

    if extractor is None or ab.shape[-1] != 28:
        return {}
    p_ab, p_ba = extract(extractor, ab)[1], extract(extractor, ba)[1]
    assert p_ab is not None and p_ba is not None  # a classifier extractor has a head
    pred_ab, pred_ba = p_ab.argmax(1), p_ba.argmax(1)
    if classes_b:
        return {"a2b_accuracy": float(torch.isin(pred_ab, torch.tensor(classes_b)).float().mean()),
                "b2a_accuracy": float(torch.isin(pred_ba, torch.tensor(classes_a)).float().mean())}
    if y_a is None or y_b is None:
        return {}
    return {"a2b_label_kept": float((pred_ab == y_a).float().mean()),
            "b2a_label_kept": float((pred_ba == y_b).float().mean())}


for _key in ("a2b_accuracy", "b2a_accuracy", "a2b_label_kept", "b2a_label_kept"):
    register_direction(_key, higher_is_better=True)
register_direction("cycle_l1", higher_is_better=False)

SMOKE = [
    "data.name=mnist",
    "data.target=mnist-m",
    "cyclegan.width=4",
    "cyclegan.blocks=1",
    "cyclegan.d_width=4",
    "cyclegan.pool_size=6",
    "cyclegan.val_size=16",
    "train.batch_size=4",
    "train.log_every=2",
    "train.sample_every=4",
    "train.checkpoint_every=4",
]


@register_method("cyclegan", sections={"cyclegan": CycleGANConfig}, smoke=SMOKE)
def build(cfg, spec: DataSpec, device: torch.device) -> CycleGAN:
    return CycleGAN(cfg, spec, device)
