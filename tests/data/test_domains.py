"""Domain pairs: the rotated moons, MNIST-M's blend, disjoint splits, folders and bad inputs."""

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import make_moons
from torch.testing import assert_close

from gankit.data.domains import _mnist_parts, blend_with_patches, load_domain, load_domain_pair, rotate
from gankit.errors import UserError


def test_rotate_quarter_turn_about_centre():
    pts = np.array([[1.5, 0.25], [0.5, 0.25]])
    assert_close(rotate(pts, 90.0, (0.5, 0.25)), np.array([[0.5, 1.25], [0.5, 0.25]]))


def test_moons_rotated_is_the_moons_turned_by_35_degrees():
    pair = load_domain_pair("moons", "moons-rotated", seed=0)
    x, y = make_moons(300, noise=0.05, random_state=2)  # the target's random state for seed 0
    a = np.radians(35.0)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    expected = (x - [0.5, 0.25]) @ r.T + [0.5, 0.25]
    assert_close(pair.target.x, torch.tensor(expected, dtype=torch.float32))
    assert torch.equal(pair.target.y, torch.tensor(y))
    assert pair.source.x.shape == (300, 2) and pair.target_test.x.shape == (1000, 2)
    assert not torch.equal(pair.target.x[:10], pair.target_test.x[:10])


def test_blend_is_absolute_difference_per_channel():
    digit = np.array([[[0, 255], [100, 30]]], dtype=np.uint8)  # 1 x 2 x 2
    photo = np.zeros((2, 2, 3), dtype=np.uint8)
    photo[..., 0], photo[..., 1], photo[..., 2] = 10, 200, 60
    out = blend_with_patches(digit, [photo], np.random.default_rng(0))  # a 2 x 2 photo has one patch
    expected = np.array([[[10, 200, 60], [245, 55, 195]], [[90, 100, 40], [20, 170, 30]]], dtype=np.uint8)
    assert np.array_equal(out[0], expected)


def test_mnist_to_mnist_m_pair_is_disjoint_seeded_and_coloured():
    src, _, _, _ = _mnist_parts("source", 0)
    tgt, _, test, _ = _mnist_parts("target", 0)
    as_set = lambda a: {r.tobytes() for r in a}  # noqa: E731
    assert len(src) == len(tgt) == 2000 and len(test) == 1000
    assert not as_set(src) & as_set(tgt) and not as_set(tgt) & as_set(test)

    pair = load_domain_pair("mnist", "mnist-m", seed=0)
    assert pair.source.x.shape == (2000, 3, 28, 28) and pair.target.x.shape == (2000, 3, 28, 28)
    assert pair.target_test.x.shape == (1000, 3, 28, 28)
    assert torch.equal(pair.source.x[:, 0], pair.source.x[:, 1])  # gray digits repeated to RGB
    assert not torch.equal(pair.target.x[:, 0], pair.target.x[:, 1])  # colour photographs
    assert pair.source.x.min() >= -1 and pair.target.x.max() <= 1
    assert torch.equal(pair.target.y, torch.from_numpy(_mnist_parts("target", 0)[1]))
    again = load_domain("mnist-m", "target", seed=0)[0]
    assert torch.equal(again.x, pair.target.x)


def _photo_folder(root, colours):
    """A BSDS500-like folder: train/ and test/ each with plain photographs of one colour."""
    for split, colour in colours.items():
        (root / split).mkdir(parents=True)
        for k in range(2):
            Image.fromarray(np.full((40, 50, 3), colour, dtype=np.uint8)).save(root / split / f"{k}.png")
    return str(root)


def test_mnist_m_as_published_binarises_digits_and_crops_train_and_test_photographs_apart(tmp_path):
    red, blue = (200, 10, 0), (0, 30, 220)
    photos = _photo_folder(tmp_path / "bsds", {"train": red, "test": blue})
    pair = load_domain_pair("mnist", "mnist-m", seed=0, photos=photos)
    colours = lambda x: {tuple(c) for c in ((x + 1) * 127.5).round().permute(0, 2, 3, 1).reshape(-1, 3).tolist()}  # noqa: E731
    # A binarised digit (0 or 255) blended with a one-colour patch leaves exactly two colours: the patch and its
    # complement 255 - patch; grey digit levels would leave many more.
    assert colours(pair.target.x) == {red, tuple(255 - v for v in red)}
    assert colours(pair.target_test.x) == {blue, tuple(255 - v for v in blue)}
    with pytest.raises(UserError, match="data.photos=.*test"):
        load_domain_pair("mnist", "mnist-m", photos=_photo_folder(tmp_path / "no-test", {"train": red}))


def test_digits_are_upsampled_to_28_pixels():
    pair = load_domain_pair("digits", "mnist")
    assert pair.source.x.shape == (1797, 1, 28, 28) and pair.target.x.shape == (2000, 1, 28, 28)
    assert_close(pair.source.x.min(), torch.tensor(-1.0))
    assert_close(pair.source.x.max(), torch.tensor(1.0), atol=0.05, rtol=0)


def _folder(root, classes, n=3, colour=(255, 0, 0)):
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(n):
            Image.new("RGB", (40, 40), colour).save(root / c / f"{i}.png")
    return root


def test_folder_pair_holds_out_a_quarter_of_the_target(tmp_path):
    s = _folder(tmp_path / "s", ["cat", "dog"], n=4)
    t = _folder(tmp_path / "t", ["cat", "dog"], n=4, colour=(0, 0, 255))
    pair = load_domain_pair(f"folder:{s}", f"folder:{t}")
    assert pair.source.x.shape == (8, 3, 32, 32)
    assert len(pair.target) == 6 and len(pair.target_test) == 2
    assert pair.classes == ["cat", "dog"]


def test_bad_domains_are_one_line_user_errors(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    Image.new("RGB", (32, 32)).save(flat / "a.png")
    good = _folder(tmp_path / "good", ["a", "b"])
    other = _folder(tmp_path / "other", ["a", "c"])
    with pytest.raises(UserError, match="no class sub-folders"):
        load_domain_pair(f"folder:{flat}", f"folder:{good}")
    with pytest.raises(UserError, match=r"different classes \(only in source: \['b'\]; only in target: \['c'\]\)"):
        load_domain_pair(f"folder:{good}", f"folder:{other}")
    with pytest.raises(UserError, match="unknown domain 'svhn'"):
        load_domain_pair("svhn", "mnist")
    with pytest.raises(UserError, match="different kinds of data"):
        load_domain_pair("moons", "digits")
