"""Paired data: Canny edge maps (deterministic, binary, on the outline), the 28/32/64 sizes, and paired folders in
both layouts (side-by-side A|B; A/ and B/ matched by name) with their channel handling and errors."""

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import load_dataset
from gankit.data.paired import canny_edges, to_native, to_size
from gankit.errors import UserError


def _square(size=28, lo=4, hi=20):
    x = -torch.ones(1, 1, size, size)
    x[..., lo:hi, lo:hi] = 1.0
    return x


def test_edges_of_a_square_are_its_outline_binary_and_deterministic():
    e = canny_edges(_square())
    assert e.shape == (1, 1, 28, 28)
    assert set(e.unique().tolist()) == {-1.0, 1.0}
    assert torch.equal(e, canny_edges(_square()))
    on = e[0, 0] > 0
    assert not on[8:16, 8:16].any() and not on[:2].any()  # nothing inside the square nor far outside it
    assert on[3:6, 8:16].any(0).all() and on[8:16, 3:6].any(1).all()  # its top and left sides, all along


def test_edges_of_rgb_images_are_those_of_their_gray():
    x = _square()
    assert torch.equal(canny_edges(x.expand(-1, 3, -1, -1)), canny_edges(x))


def test_sizes_pad_or_upsample_and_native_undoes_them():
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    assert torch.equal(to_native(to_size(x, 32)), x)
    assert to_size(x, 32)[..., :2, :].eq(-1).all()
    up = to_size(x, 64)
    assert up.shape == (2, 1, 64, 64)
    torch.testing.assert_close(to_native(up).mean(), x.mean(), atol=0.02, rtol=0)
    with pytest.raises(UserError, match="img_size"):
        to_size(x, 48)


def test_edges_dataset_pairs_each_digit_with_its_edge_map():
    d = load_dataset("mnist-5k-edges", split="test", img_size=32)
    assert d.x.shape == d.extra["a"].shape == (1000, 1, 32, 32)
    assert set(d.extra["a"].unique().tolist()) == {-1.0, 1.0}
    torch.testing.assert_close(d.extra["a"][:5], canny_edges(d.x[:5]))
    assert d.spec.cond == ("a",) and d.y is not None


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _gray(v, h=8, w=8):
    return np.full((h, w), v, dtype=np.uint8)


def test_side_by_side_pairs_split_at_the_middle(tmp_path):
    for i in range(3):
        _save(tmp_path / f"{i}.png", np.concatenate([_gray(10 * i), _gray(200)], 1))
    d = load_dataset("paired-folder", root=str(tmp_path))
    assert d.x.shape == d.extra["a"].shape == (3, 1, 8, 8)
    assert torch.allclose(d.extra["a"][2], torch.tensor(20 / 127.5 - 1))  # the left half
    assert torch.allclose(d.x, torch.tensor(200 / 127.5 - 1))  # the right half


def test_a_gray_side_becomes_three_channels_when_the_other_is_colour(tmp_path):
    rgb = np.zeros((8, 8, 3), dtype=np.uint8)
    rgb[..., 0] = 255
    for i in range(2):
        _save(tmp_path / "A" / f"p{i}.png", _gray(50))
        _save(tmp_path / "B" / f"p{i}.png", rgb)
    d = load_dataset("paired-folder", root=str(tmp_path))
    assert d.x.shape == d.extra["a"].shape == (2, 3, 8, 8)
    assert torch.equal(d.extra["a"][:, 0], d.extra["a"][:, 2])  # gray repeated: no information lost
    assert d.x[0, 0].eq(1).all() and d.x[0, 1].eq(-1).all()
    assert load_dataset("paired-folder", root=str(tmp_path), channels=1).x.shape[1] == 1


def test_two_folders_are_matched_by_name_not_by_order(tmp_path):
    _save(tmp_path / "A" / "b.png", _gray(0))
    _save(tmp_path / "A" / "a.jpg", _gray(255))
    _save(tmp_path / "B" / "z" / "a.png", _gray(255))  # listed after B/b.png
    _save(tmp_path / "B" / "b.png", _gray(0))
    d = load_dataset("paired-folder", root=str(tmp_path), img_size=16)
    assert d.x.shape == (2, 1, 16, 16)
    torch.testing.assert_close(d.extra["a"], d.x, atol=0.02, rtol=0)


def test_a_file_without_a_partner_is_named(tmp_path):
    _save(tmp_path / "A" / "one.png", _gray(0))
    _save(tmp_path / "B" / "one.png", _gray(0))
    _save(tmp_path / "B" / "two.png", _gray(0))
    with pytest.raises(UserError, match=r"B/two.png"):
        load_dataset("paired-folder", root=str(tmp_path))


def test_a_split_folder_is_used_when_present_and_odd_widths_are_refused(tmp_path):
    _save(tmp_path / "train" / "x.png", np.concatenate([_gray(0), _gray(255)], 1))
    _save(tmp_path / "test" / "y.png", _gray(0, 8, 9))
    assert len(load_dataset("paired-folder", root=str(tmp_path))) == 1
    with pytest.raises(UserError, match="y.png.*even width"):
        load_dataset("paired-folder", split="test", root=str(tmp_path))
    with pytest.raises(UserError, match="data.root"):
        load_dataset("paired-folder")
