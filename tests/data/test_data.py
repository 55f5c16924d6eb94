import gzip

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import fashion_mnist, load_dataset
from gankit.data.idx import read_idx
from gankit.data.stream import BatchStream
from gankit.data import TensorData
from gankit.errors import UserError


def _write_idx(path, arr):
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def test_idx_round_trip_and_truncation(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.gz", arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), arr)
    raw = gzip.open(tmp_path / "a.gz").read()
    with gzip.open(tmp_path / "b.gz", "wb") as f:
        f.write(raw[:-5])
    with pytest.raises(UserError, match="b.gz.*truncated"):
        read_idx(tmp_path / "b.gz")


def test_fashion_mnist_from_a_user_root(tmp_path):
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.full((3, 28, 28), 255))
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([1, 2, 3]))
    d = load_dataset("fashion-mnist", split="test", root=str(tmp_path), img_size=32)
    assert d.x.shape == (3, 1, 32, 32) and d.y.tolist() == [1, 2, 3] and d.num_classes == 10
    torch.testing.assert_close(d.x, torch.ones_like(d.x))  # 255 -> +1


def test_fashion_mnist_real_files_scaled_to_unit_range():
    d = load_dataset("fashion-mnist", split="test")
    assert d.x.shape == (10000, 1, 28, 28) and d.x.min() == -1 and d.x.max() == 1
    assert torch.bincount(d.y).tolist() == [1000] * 10


def test_missing_dataset_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    with pytest.raises(UserError, match="apt-get install dataset-fashion-mnist") as e:
        load_dataset("fashion-mnist")
    assert "\n" not in str(e.value)
    with pytest.raises(UserError, match="data.root"):
        load_dataset("fashion-mnist", root=str(tmp_path))


def test_unknown_dataset():
    with pytest.raises(UserError, match="unknown dataset 'nope'"):
        load_dataset("nope")


def test_mnist_5k_is_split_by_class():
    train, test = load_dataset("mnist-5k"), load_dataset("mnist-5k", split="test")
    assert len(train) == 4000 and len(test) == 1000
    assert torch.bincount(test.y).tolist() == [100] * 10


def _img(path, size=(20, 10), mode="RGB", value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, 0, 255)).save(path)


def test_folder_with_classes_resize_and_crop(tmp_path):
    _img(tmp_path / "cats" / "a.png")
    _img(tmp_path / "dogs" / "b.jpg", size=(10, 30))
    _img(tmp_path / "dogs" / "sub" / "c.png")
    d = load_dataset(f"folder:{tmp_path}", img_size=8)
    assert d.x.shape == (3, 3, 8, 8) and d.classes == ["cats", "dogs"] and d.y.tolist() == [0, 1, 1]
    assert d.x.min() >= -1 and d.x.max() <= 1
    gray = load_dataset(f"folder:{tmp_path}", img_size=8, channels=1)
    assert gray.x.shape == (3, 1, 8, 8)


def test_folder_grayscale_detected(tmp_path):
    _img(tmp_path / "a.png", mode="L")
    _img(tmp_path / "b.png", mode="L")
    d = load_dataset(f"folder:{tmp_path}", img_size=4)
    assert d.x.shape == (2, 1, 4, 4) and d.y is None


def test_corrupt_image_names_the_file(tmp_path):
    _img(tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(UserError, match="bad.png: not a readable image"):
        load_dataset(f"folder:{tmp_path}", img_size=8)


def test_empty_and_missing_folder(tmp_path):
    with pytest.raises(UserError, match="no images"):
        load_dataset(f"folder:{tmp_path}")
    with pytest.raises(UserError, match="no such folder"):
        load_dataset(f"folder:{tmp_path}/missing")


def test_batch_stream_is_resumable():
    data = TensorData(x=torch.arange(50).float().unsqueeze(1))
    a = BatchStream(data, batch_size=8, seed=3)
    seen = [next(a)["x"] for _ in range(9)]  # crosses an epoch boundary
    b = BatchStream(data, batch_size=8, seed=3)
    for _ in range(4):
        next(b)
    c = BatchStream(data, batch_size=8, seed=3)
    c.load_state_dict(b.state_dict())
    for expected in seen[4:]:
        torch.testing.assert_close(next(c)["x"], expected)
    epoch0 = torch.cat(seen[:6]).flatten()
    assert len(set(epoch0.tolist())) == 48  # no repeats within an epoch


def test_data_spec_kind_from_shape_and_round_trip():
    from gankit.data import DataSpec

    assert DataSpec((1, 28, 28)).kind == "image" and DataSpec((2,)).kind == "points" and DataSpec((1, 16384)).kind == "audio"
    spec = DataSpec((3, 32, 32), classes=("cat", "dog"), cond=("caption",))
    assert DataSpec.from_dict(spec.to_dict()) == spec and spec.num_classes == 2
    with pytest.raises(ValueError, match="unknown kind"):
        DataSpec((2,), kind="graph")


def test_batches_carry_the_extra_tensors_row_for_row():
    data = TensorData(torch.arange(20.0).reshape(10, 2), torch.arange(10), extra={"box": torch.arange(40.0).reshape(10, 4)})
    assert data.spec.cond == ("box",)
    batch = next(BatchStream(data, batch_size=4, seed=1))
    assert set(batch) == {"x", "y", "box"}
    idx = batch["y"]  # y = item index here, so every key must come from the same rows
    torch.testing.assert_close(batch["x"], data.x[idx])
    torch.testing.assert_close(batch["box"], data.extra["box"][idx])
