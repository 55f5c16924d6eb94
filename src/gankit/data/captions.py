"""Captions for Fashion-MNIST made from its labels and two measured attributes, for text-to-image GANs
(GAN-CLS, Reed et al. 2016, "Generative Adversarial Text to Image Synthesis"; docs/text-and-location.md).

Reed et al. train on CUB and Oxford-102 with ten human captions per image. Fashion-MNIST has none, so each
image gets captions from a small grammar over what can be measured on it:

- the class (``a sneaker``, ``a trainer``; synonyms per class, :data:`CLASS_WORDS`);
- brightness: the mean intensity of the object's pixels, ``dark`` in the lowest third of its class, ``bright``
  in the highest, unmentioned in the middle third (:data:`BRIGHTNESS_WORDS`);
- size: the share of the 28 x 28 pixels the object covers, ``small`` / ``large`` in the same way
  (:data:`SIZE_WORDS`).

Thirds are taken per class on the training split (:func:`attribute_thresholds`), so ``a dark coat`` means dark
for a coat, and every class has dark and bright, small and large examples. The captions are phrased by
templates (:data:`TRAIN_TEMPLATES`), several per image, drawn with a seeded generator: the same seed gives the
same captions.

Held out for testing, never in a training caption (``tests/data/test_captions.py`` checks both):

- phrasings: :data:`HELD_OUT_TEMPLATES`, new orders and structures of the training templates' words;
- attribute combinations: for each class one pair (brightness, size) of :data:`HELD_OUT_COMBOS`; training
  images of that class with that pair are captioned with one of the two attributes at most.

Every word of the grammar is in :data:`VOCAB` (index 0 is padding); :func:`encode_captions` turns captions
into token ids and raises a one-line :class:`UserError` naming an unknown word, or for an empty caption.
"""

from __future__ import annotations

import functools
import itertools
import re

import numpy as np
import torch

from gankit.data.base import TensorData, fit_images, register
from gankit.errors import UserError

CLASS_WORDS = (
    ("t-shirt", "top"),
    ("trousers", "pants"),
    ("pullover", "sweater"),
    ("dress",),
    ("coat", "jacket"),
    ("sandal",),
    ("shirt",),
    ("sneaker", "trainer"),
    ("bag", "handbag"),
    ("ankle boot", "boot"),
)
DARK, MIDDLE, HIGH = 0, 1, 2  # attribute levels: lowest third of the class, middle (unmentioned), highest
BRIGHTNESS_WORDS = {DARK: ("dark", "dim"), HIGH: ("bright", "light")}
SIZE_WORDS = {DARK: ("small", "little"), HIGH: ("large", "big")}

# {c}: the class, {b}: brightness, {s}: size. "a" becomes "an" before a vowel (an ankle boot).
TRAIN_TEMPLATES = (
    "a {c}",
    "a {b} {c}",
    "a {s} {c}",
    "a {s} {b} {c}",
    "a {c} that is {b}",
    "a {c} that is {s}",
    "a {c} that is {s} and {b}",
    "this {c} is {b}",
    "a picture of a {s} {c}",
    "a picture of a {b} {c}",
)
HELD_OUT_TEMPLATES = (
    "a picture of a {c}",
    "a {b} {s} {c}",
    "this {c} is {s}",
    "this {c} is {s} and {b}",
    "a picture of a {c} that is {b}",
    "a picture of a {s} {b} {c}",
)
# One (brightness, size) pair per class whose captions naming both never reach training: the four extreme
# pairs in turn, so each pair is held out for some classes and seen in training for the others.
HELD_OUT_COMBOS = {k: ((DARK, HIGH)[k % 2], (DARK, HIGH)[(k // 2) % 2]) for k in range(len(CLASS_WORDS))}
# Validation, carved from the training grammar for choosing settings (never the held-out test captions above):
# three training phrasings and per class one more (brightness, size) pair (the held-out pair with the other
# brightness) that the tuning split (``data.name=fashion-mnist-captions-tuning``) leaves out of its training captions.
VALIDATION_TEMPLATES = ("a {s} {b} {c}", "a {c} that is {s}", "a picture of a {b} {c}")
VALIDATION_COMBOS = {k: ((HIGH, DARK)[k % 2], (DARK, HIGH)[(k // 2) % 2]) for k in range(len(CLASS_WORDS))}
TUNING_TEMPLATES = tuple(t for t in TRAIN_TEMPLATES if t not in VALIDATION_TEMPLATES)

MAX_LEN = 16  # tokens of a caption; the grammar's longest has 8
CAPTIONS_PER_IMAGE = 5  # Reed et al. have ten human captions per image; a step draws one of them per image


def tokenize(caption: str) -> list[str]:
    """Lower-case words; commas, full stops and the like separate words and are dropped."""
    return re.findall(r"[^\s,.;:!?\"()]+", caption.lower())


def _slots(template: str) -> set[str]:
    return set(re.findall(r"{(\w)}", template))


def _render(template: str, c: str, b: str = "", s: str = "") -> str:
    text = template.format(c=c, b=b, s=s)
    return re.sub(r"\ba (?=[aeiou])", "an ", text)  # "a ankle boot" -> "an ankle boot"


def captions_for(k: int, b: int, s: int, templates: tuple[str, ...], *, both: bool = True) -> list[str]:
    """Every caption of class ``k`` with brightness level ``b`` and size level ``s`` that ``templates`` phrase:
    each template whose attribute slots the levels can fill (a middle level fills none), each synonym.
    ``both=False`` leaves out the templates that name brightness and size together."""
    out = []
    for t in templates:
        slots = _slots(t)
        if ("b" in slots and b == MIDDLE) or ("s" in slots and s == MIDDLE) or (not both and {"b", "s"} <= slots):
            continue
        for c, bw, sw in itertools.product(
            CLASS_WORDS[k], BRIGHTNESS_WORDS.get(b, ("",)), SIZE_WORDS.get(s, ("",))
        ):
            out.append(_render(t, c, bw, sw))
    return sorted(set(out))


def _grammar_words() -> list[str]:
    words = {"an"}
    for t in TRAIN_TEMPLATES + HELD_OUT_TEMPLATES:
        words |= set(tokenize(re.sub(r"{\w}", " ", t)))
    for names in (*CLASS_WORDS, *BRIGHTNESS_WORDS.values(), *SIZE_WORDS.values()):
        for name in names:
            words |= set(tokenize(name))
    return sorted(words)


VOCAB = ("<pad>", *_grammar_words())  # index 0 pads a caption to MAX_LEN
WORD_INDEX = {w: i for i, w in enumerate(VOCAB)}


def encode_captions(captions: list[str], max_len: int = MAX_LEN) -> torch.Tensor:
    """Token ids of ``captions`` (N x max_len, padded with 0) in :data:`VOCAB`.

    Raises:
        UserError: a caption is empty, longer than ``max_len`` words, or has a word outside the vocabulary
            (the message names it and the caption).
    """
    out = torch.zeros(len(captions), max_len, dtype=torch.long)
    for i, caption in enumerate(captions):
        words = tokenize(caption)
        if not words:
            raise UserError(f"caption {caption!r}: it is empty; describe a garment, e.g. 'a dark ankle boot'")
        if len(words) > max_len:
            raise UserError(f"caption {caption!r}: {len(words)} words, more than the {max_len} the encoder reads")
        for j, w in enumerate(words):
            if w not in WORD_INDEX:
                raise UserError(
                    f"caption {caption!r}: unknown word {w!r}; the vocabulary has {len(VOCAB) - 1} words "
                    f"(gankit.data.captions.VOCAB), e.g. {', '.join(VOCAB[1:9])}"
                )
            out[i, j] = WORD_INDEX[w]
    return out


def decode_tokens(tokens: torch.Tensor) -> str:
    """One row of token ids back to its caption (padding dropped)."""
    return " ".join(VOCAB[i] for i in tokens.tolist() if i)


def describe(caption: str) -> tuple[int | None, int, int]:
    """(class, brightness level, size level) a caption names: the class None when it names none, a level
    MIDDLE when it names none. ``ankle boot`` and ``boot`` are one class; ``shirt`` is not ``t-shirt``."""
    words = tokenize(caption)
    k = next((k for k, names in enumerate(CLASS_WORDS) for n in names if tokenize(n)[-1] in words), None)
    b = next((lv for lv, ws in BRIGHTNESS_WORDS.items() if set(ws) & set(words)), MIDDLE)
    s = next((lv for lv, ws in SIZE_WORDS.items() if set(ws) & set(words)), MIDDLE)
    return k, b, s


def measure_attributes(x: torch.Tensor, ink: float = 0.1) -> torch.Tensor:
    """(brightness, size) of each image: N x 2.

    Args:
        x: N x 1 x H x W images in [-1, 1] (garment light on a black background, as in Fashion-MNIST).
        ink: the intensity in [0, 1] above which a pixel belongs to the object.

    Returns:
        brightness: the mean intensity in [0, 1] of the object's pixels (0 when there are none);
        size: the share of all pixels that belong to the object.
    """
    u = (x.float().flatten(1) + 1) / 2  # [N, H*W] in [0, 1]
    mask = (u > ink).float()
    area = mask.sum(1)
    brightness = (u * mask).sum(1) / area.clamp(min=1)
    return torch.stack([brightness, area / u.shape[1]], dim=1)


def attribute_thresholds(attributes: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The per-class tercile boundaries of each attribute: K x 2 attributes x 2 (the 1/3 and 2/3 quantiles)."""
    q = torch.tensor([1 / 3, 2 / 3], dtype=attributes.dtype)
    return torch.stack([torch.quantile(attributes[y == k], q, dim=0).T for k in range(num_classes)])


def attribute_levels(attributes: torch.Tensor, y: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    """Levels DARK/MIDDLE/HIGH (0, 1, 2) of each attribute of each item against its class's terciles: N x 2."""
    t = thresholds[y]  # [N, 2, 2]
    return (attributes > t[..., 0]).long() + (attributes > t[..., 1]).long()


def attribute_agreement(attributes: torch.Tensor, y: torch.Tensor, levels: torch.Tensor, medians: torch.Tensor):
    """Per attribute, the share of the items whose caption names a level (DARK or HIGH) that lie on the named
    side of their class's median: a dark coat darker than the median real coat, a large bag larger than the
    median bag.

    Args:
        attributes: N x A measured attributes (:func:`measure_attributes`) of generated images.
        y: N classes the captions name; levels: N x A levels the captions name (MIDDLE: not named).
        medians: K x A per-class medians on real training images.

    Returns:
        A list of A (agreement, count) pairs; agreement is nan where no caption names that attribute.
    """
    side = attributes > medians[y]  # [N, A]: above the median
    out = []
    for a in range(attributes.shape[1]):
        named = levels[:, a] != MIDDLE
        agree = side[named, a] == (levels[named, a] == HIGH)
        out.append((agree.double().mean().item() if named.any() else float("nan"), int(named.sum())))
    return out


@functools.lru_cache(maxsize=2)
def _measured(split: str, root: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    # Cached: measuring 60,000 images takes a second or two, and the statistics, levels and tokens all need it.
    from gankit.data.fashion_mnist import fashion_mnist

    data = fashion_mnist(split, root)
    assert data.y is not None
    return data.y, measure_attributes(data.x)


@functools.lru_cache(maxsize=2)
def class_statistics(root: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(terciles K x 2 x 2, medians K x 2) of the attributes of Fashion-MNIST's training images, per class."""
    y, attributes = _measured("train", root)
    k = len(CLASS_WORDS)
    medians = torch.stack([attributes[y == c].median(0).values for c in range(k)])
    return attribute_thresholds(attributes, y, k), medians


def _levels(split: str, root: str | None) -> torch.Tensor:
    y, attributes = _measured(split, root)
    return attribute_levels(attributes, y, class_statistics(root)[0])


def draw_captions(y: torch.Tensor, levels: torch.Tensor, per_item: int, seed: int, split: str = "train") -> list:
    """``per_item`` captions for each item, drawn uniformly (with replacement) from those its class and levels
    allow: the training templates without the held-out combinations for ``split="train"``, the held-out
    templates (every combination) for ``split="test"``, the training templates less the validation ones, without
    the held-out and validation combinations, for ``split="tuning"`` (:func:`validation_captions` are the rest).
    Deterministic in ``seed``: a list of lists of strings."""
    rng = np.random.default_rng(seed)
    out: list[list[str]] = [[] for _ in range(len(y))]
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, combo in enumerate(torch.cat([y[:, None], levels], 1).tolist()):
        groups.setdefault(tuple(combo), []).append(i)
    for (k, b, s), items in sorted(groups.items()):  # sorted: the draws do not depend on the data's order
        if split == "train":
            pool = captions_for(k, b, s, TRAIN_TEMPLATES, both=HELD_OUT_COMBOS[k] != (b, s))
        elif split == "tuning":
            both = (b, s) not in (HELD_OUT_COMBOS[k], VALIDATION_COMBOS[k])
            pool = captions_for(k, b, s, TUNING_TEMPLATES, both=both)
        else:
            pool = captions_for(k, b, s, HELD_OUT_TEMPLATES)
        picks = rng.integers(len(pool), size=(len(items), per_item))
        for i, row in zip(items, picks):
            out[i] = [pool[j] for j in row]
    return out


def training_captions(tuning: bool = False) -> set[str]:
    """Every caption the training grammar can give a training image (``tuning``: the tuning split's grammar)."""
    out: set[str] = set()
    for k, b, s in itertools.product(range(len(CLASS_WORDS)), range(3), range(3)):
        if tuning:
            both = (b, s) not in (HELD_OUT_COMBOS[k], VALIDATION_COMBOS[k])
            out |= set(captions_for(k, b, s, TUNING_TEMPLATES, both=both))
        else:
            out |= set(captions_for(k, b, s, TRAIN_TEMPLATES, both=HELD_OUT_COMBOS[k] != (b, s)))
    return out


def validation_captions() -> list[tuple[str, int, int, int]]:
    """The validation captions, sorted, with the (class, brightness level, size level) each names: the training
    grammar's captions that the tuning split never shows (:data:`VALIDATION_TEMPLATES`, and the phrasings naming
    both attributes of a :data:`VALIDATION_COMBOS` pair). Settings are chosen on these, with runs trained on
    ``data.name=fashion-mnist-captions-tuning``; the held-out test captions stay untouched."""
    out = []
    for c in sorted(training_captions() - training_captions(tuning=True)):
        k, b, s = describe(c)
        assert k is not None
        out.append((c, k, b, s))
    return out


def _captioned(split: str, root: str | None, img_size: int | None, channels: int | None, grammar: str) -> TensorData:
    from gankit.data.fashion_mnist import fashion_mnist

    base = fashion_mnist(split, root)
    assert base.y is not None
    levels, tokens = _levels(split, root), _token_table(split, root, grammar)
    x = fit_images(base.x, img_size, channels)
    extra = {"caption": tokens, "levels": levels}
    name = "fashion-mnist-captions" + ("-tuning" if grammar == "tuning" else "")
    return TensorData(x=x, y=base.y, classes=base.classes, name=name, extra=extra)


@register("fashion-mnist-captions")
def fashion_mnist_captions(
    split: str = "train", root: str | None = None, img_size: int | None = None, channels: int | None = None
) -> TensorData:
    """Fashion-MNIST with :data:`CAPTIONS_PER_IMAGE` captions per image as token ids (``caption``: N x P x
    MAX_LEN) and the levels they were drawn from (``levels``: N x 2, brightness and size). The training split
    uses the training grammar, ``split=test`` the held-out phrasings. Attributes are measured at 28 x 28."""
    return _captioned(split, root, img_size, channels, "train" if split == "train" else "test")


@register("fashion-mnist-captions-tuning")
def fashion_mnist_captions_tuning(
    split: str = "train", root: str | None = None, img_size: int | None = None, channels: int | None = None
) -> TensorData:
    """The same images with the tuning grammar (:func:`validation_captions` carved out of the training one), for
    the runs that choose settings; ``split=test`` as in ``fashion-mnist-captions``."""
    return _captioned(split, root, img_size, channels, "tuning" if split == "train" else "test")


@functools.lru_cache(maxsize=3)
def _token_table(split: str, root: str | None, grammar: str) -> torch.Tensor:
    # Cached: tokenising 300,000 captions takes seconds, and a test process loads the split several times.
    y = _measured(split, root)[0]
    seed = 0 if split == "train" else 1
    captions = draw_captions(y, _levels(split, root), CAPTIONS_PER_IMAGE, seed=seed, split=grammar)
    distinct = sorted({c for row in captions for c in row})
    table = encode_captions(distinct)
    index = {c: i for i, c in enumerate(distinct)}
    ids = torch.tensor([[index[c] for c in row] for row in captions])
    return table[ids]  # [N, P, MAX_LEN]
