"""Photographs at their own size: random crops, the bsds500 loader (on a stand-in folder), reading image files."""

import numpy as np
import pytest
import torch
from PIL import Image
from torch.testing import assert_close

from gankit.data import load_dataset
from gankit.data.photos import image_paths, random_crops, read_image
from gankit.errors import UserError


def test_random_crops_are_windows_of_their_image_on_the_grid():
    x = torch.randn(5, 3, 40, 52)
    crops, corners = random_crops(x, 16, torch.Generator().manual_seed(0), align=4)
    assert crops.shape == (5, 3, 16, 16)
    for i, (top, left) in enumerate(corners.tolist()):
        assert top % 4 == 0 and left % 4 == 0
        assert 0 <= top <= 40 - 16 and 0 <= left <= 52 - 16
        assert_close(crops[i], x[i, :, top : top + 16, left : left + 16])


def test_random_crops_are_seeded_and_vary():
    x = torch.randn(64, 1, 30, 30)
    a = random_crops(x, 8, torch.Generator().manual_seed(1))[1]
    b = random_crops(x, 8, torch.Generator().manual_seed(1))[1]
    c = random_crops(x, 8, torch.Generator().manual_seed(2))[1]
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert len({tuple(t) for t in a.tolist()}) > 32  # many different windows, not one


def test_random_crops_keep_small_images_whole():
    x = torch.randn(2, 1, 28, 28)
    crops, _ = random_crops(x, 96)
    assert crops is x


def _fake_bsds(root, sizes):
    for split, (n, w, h) in sizes.items():
        (root / split).mkdir(parents=True)
        for i in range(n):
            a = np.full((h, w, 3), 10 * i + 5, dtype=np.uint8)
            a[0, 0] = 255  # a marker in the top-left corner, to see rotations
            Image.fromarray(a).save(root / split / f"{i}.png")


def test_bsds500_splits_and_turns_portraits_to_landscape(tmp_path):
    _fake_bsds(tmp_path, {"train": (2, 12, 8), "val": (1, 8, 12), "test": (3, 12, 8)})
    train = load_dataset("bsds500", "train", root=str(tmp_path))
    test = load_dataset("bsds500", "test", root=str(tmp_path))
    assert train.x.shape == (3, 3, 8, 12) and test.x.shape == (3, 3, 8, 12)
    assert train.y is None
    # The portrait (val) photograph is turned a quarter: its marker moves from the top-left to the top-right.
    assert_close(train.x[2, :, 0, -1], torch.ones(3))
    assert_close(train.x[0, :, 0, 0], torch.ones(3))


def test_bsds500_names_what_is_missing(tmp_path):
    with pytest.raises(UserError, match="data.root"):
        load_dataset("bsds500", "train")
    with pytest.raises(UserError, match="val"):
        _fake_bsds(tmp_path, {"train": (1, 12, 8)})
        load_dataset("bsds500", "train", root=str(tmp_path))
    with pytest.raises(UserError, match="img_size"):
        load_dataset("bsds500", "train", root=str(tmp_path), img_size=64)


def test_read_image_and_image_paths(tmp_path):
    Image.fromarray(np.zeros((4, 6), dtype=np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("x")
    assert read_image(tmp_path / "a.png").shape == (1, 3, 4, 6)  # gray file, RGB asked for
    assert read_image(tmp_path / "a.png", "L").shape == (1, 1, 4, 6)
    assert image_paths([tmp_path]) == [tmp_path / "a.png"]
    with pytest.raises(UserError, match="not an image file"):
        image_paths([tmp_path / "notes.txt"])
    with pytest.raises(UserError, match="no such file"):
        image_paths([tmp_path / "b.png"])
    (tmp_path / "bad.png").write_text("not a png")
    with pytest.raises(UserError, match="bad.png: not a readable image"):
        read_image(tmp_path / "bad.png")
