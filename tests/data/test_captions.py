"""Captions of Fashion-MNIST (gankit.data.captions): seeded and deterministic, the held-out phrasings and
attribute combinations never in training, the vocabulary's errors, and the attribute measurements by hand."""

import itertools

import pytest
import torch
from torch.testing import assert_close

from gankit.data import captions as C
from gankit.errors import UserError

COMBOS = list(itertools.product(range(10), range(3), range(3)))


def _train_pool() -> set[str]:
    """Every caption a training image can get: the pools draw_captions draws from."""
    return {c for k, b, s in COMBOS for c in C.captions_for(k, b, s, C.TRAIN_TEMPLATES, both=C.HELD_OUT_COMBOS[k] != (b, s))}


def _held_out_pool() -> set[str]:
    return {c for k, b, s in COMBOS for c in C.captions_for(k, b, s, C.HELD_OUT_TEMPLATES)}


def test_draw_captions_is_deterministic_in_its_seed():
    y = torch.arange(200) % 10
    levels = torch.stack([torch.arange(200) % 3, (torch.arange(200) // 3) % 3], 1)
    a = C.draw_captions(y, levels, per_item=5, seed=0)
    assert a == C.draw_captions(y, levels, per_item=5, seed=0)
    assert a != C.draw_captions(y, levels, per_item=5, seed=1)
    assert len(a) == 200 and all(len(row) == 5 for row in a)
    assert len({c for row in a for c in row}) > 100  # several phrasings, not one caption per combination


def test_every_caption_names_its_class_and_levels():
    for k, b, s in COMBOS:
        for c in C.captions_for(k, b, s, C.TRAIN_TEMPLATES + C.HELD_OUT_TEMPLATES):
            nk, nb, ns = C.describe(c)
            assert nk == k, c
            assert nb in (C.MIDDLE, b) and ns in (C.MIDDLE, s), c  # a caption may leave an attribute out
    assert C.describe("a t-shirt")[0] == 0 and C.describe("a shirt")[0] == 6 and C.describe("an ankle boot")[0] == 9


def test_held_out_phrasings_are_never_training_captions():
    train, held = _train_pool(), _held_out_pool()
    assert train and held and not (train & held)
    # ... yet they use no word that training never shows (the encoder has learnt every word it reads)
    train_words = {w for c in train for w in C.tokenize(c)}
    assert {w for c in held for w in C.tokenize(c)} <= train_words


def test_held_out_combinations_are_never_named_in_training():
    for c in _train_pool():
        k, b, s = C.describe(c)
        assert (b, s) != C.HELD_OUT_COMBOS[k], c
    # but each attribute of a held-out pair is named alone for that class, and the pair for other classes
    k, (b, s) = 9, C.HELD_OUT_COMBOS[9]
    assert {C.describe(c)[1:] for c in C.captions_for(k, b, s, C.TRAIN_TEMPLATES, both=False)} == {(b, 1), (1, s), (1, 1)}
    assert any(C.describe(c) == (8, b, s) for c in _train_pool())
    # the held-out evaluation set does name them
    assert any(C.describe(c) == (k, b, s) for c in _held_out_pool())


def test_validation_captions_are_carved_from_training_and_never_tuned_on():
    validation = {r[0] for r in C.validation_captions()}
    tuning = C.training_captions(tuning=True)
    assert C.training_captions() == _train_pool()
    assert validation and validation <= _train_pool() and not validation & tuning  # training's, unseen when tuning
    assert not validation & _held_out_pool()  # and no test caption
    assert validation | tuning == _train_pool()
    for c in tuning:  # the tuning grammar names neither held-out nor validation pairs together
        k, b, s = C.describe(c)
        assert (b, s) not in (C.HELD_OUT_COMBOS[k], C.VALIDATION_COMBOS[k]), c
    assert all(C.VALIDATION_COMBOS[k] != C.HELD_OUT_COMBOS[k] for k in range(10))
    y = torch.arange(300) % 10
    levels = torch.stack([torch.arange(300) % 3, (torch.arange(300) // 3) % 3], 1)
    drawn = {c for row in C.draw_captions(y, levels, per_item=5, seed=0, split="tuning") for c in row}
    assert drawn <= tuning and len(drawn) > 100


def test_dataset_captions_come_from_the_training_grammar():
    try:
        data = C.fashion_mnist_captions("train")
    except UserError as e:
        pytest.skip(f"Fashion-MNIST not available: {e}")
    tokens = data.extra["caption"]
    assert tokens.shape == (60000, C.CAPTIONS_PER_IMAGE, C.MAX_LEN) and data.extra["levels"].shape == (60000, 2)
    distinct = {C.decode_tokens(r) for r in torch.unique(tokens[:3000].flatten(0, 1), dim=0)}
    assert distinct <= _train_pool() and len(distinct) > 300
    # each image's captions name its own class and, where they name one, its own levels
    for i in (0, 1, 123, 59999):
        for row in tokens[i]:
            k, b, s = C.describe(C.decode_tokens(row))
            assert k == data.y[i] and b in (1, data.extra["levels"][i, 0]) and s in (1, data.extra["levels"][i, 1])


def test_encode_captions_pads_and_maps_words():
    t = C.encode_captions(["an ankle boot", "A dark, small Coat."])
    assert t.shape == (2, C.MAX_LEN) and t.dtype == torch.long
    assert C.decode_tokens(t[0]) == "an ankle boot" and C.decode_tokens(t[1]) == "a dark small coat"
    assert (t[0, 3:] == 0).all() and (t[0, :3] > 0).all()


@pytest.mark.parametrize(
    "caption, words",
    [("a purple boot", ["'purple'"]), ("", ["empty"]), ("  , . ", ["empty"]), ("a boot " * 9, ["18 words"])],
)
def test_encode_captions_errors_name_the_problem(caption, words):
    with pytest.raises(UserError) as e:
        C.encode_captions([caption])
    assert all(w in str(e.value) for w in words) and "\n" not in str(e.value)


def test_measure_attributes_by_hand():
    x = -torch.ones(2, 1, 4, 4)
    x[0, 0, 0, :2] = 1.0  # two pixels at intensity 1 of 16
    x[0, 0, 1, 0] = 0.0  # one at 0.5
    assert_close(C.measure_attributes(x), torch.tensor([[2.5 / 3, 3 / 16], [0.0, 0.0]]))  # no object: zeros


def test_levels_and_agreement_by_hand():
    attributes = torch.tensor([[0.1, 1.0], [0.5, 2.0], [0.9, 3.0], [0.2, 9.0]])
    y = torch.tensor([0, 0, 0, 1])
    thresholds = C.attribute_thresholds(attributes[:3], y[:3], 1)  # class 0 only: terciles of (0.1, 0.5, 0.9)
    assert_close(thresholds[0, 0], torch.tensor([0.1 + 0.8 / 3, 0.1 + 1.6 / 3]))
    thresholds = torch.cat([thresholds, thresholds])
    assert C.attribute_levels(attributes[:3], y[:3], thresholds).tolist() == [[0, 0], [1, 1], [2, 2]]
    medians = torch.tensor([[0.5, 2.0], [0.5, 2.0]])
    levels = torch.tensor([[C.DARK, C.MIDDLE], [C.HIGH, C.MIDDLE], [C.HIGH, C.HIGH], [C.HIGH, C.DARK]])
    # brightness: dark 0.1 < 0.5 yes, bright 0.5 > 0.5 no, bright 0.9 yes, bright 0.2 no; size: large 3 yes, small 9 no
    (b, nb), (s, ns) = C.attribute_agreement(attributes, y, levels, medians)
    assert (b, nb, s, ns) == (0.5, 4, 0.5, 2)
