"""The source-side affine jitter of domain adaptation (gankit.data.jitter) and its use in gankit.adapt."""

import math

import pytest
import torch
from torch.testing import assert_close

import gankit.adapt as A
import gankit.methods.dann as dann_module
from gankit.config import load_config
from gankit.data import DataSpec, RunData, TensorData
from gankit.methods import build_method
from gankit.train.context import TrainContext
from gankit.data.jitter import AffineJitter, affine_matrices, jitter_images, warp
from gankit.errors import UserError


def test_identity_jitter_returns_the_batch_itself():
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    assert AffineJitter().is_identity
    assert jitter_images(x, AffineJitter()) is x


def test_jitter_keeps_shape_dtype_and_the_black_background():
    g = torch.Generator().manual_seed(0)
    j = AffineJitter(shift=2, rotate=10, scale=0.1, aspect=0.1, shear=0.1)
    x = torch.rand(5, 3, 28, 28) * 2 - 1
    out = jitter_images(x, j, g)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not torch.equal(out, x)
    # An all-background image stays background wherever each image is moved.
    blank = torch.full((5, 1, 28, 28), -1.0)
    assert_close(jitter_images(blank, j, g), blank)


def test_warp_by_two_over_w_moves_the_image_one_pixel():
    # align_corners=False: pixel j sits at (2j + 1) / W - 1, so t_x = 2 / W reads input column j + 1.
    x = torch.arange(2 * 6 * 6, dtype=torch.float32).reshape(2, 1, 6, 6) / 72
    m = torch.tensor([[[1.0, 0.0, 2 / 6], [0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0], [0.0, 1.0, -2 / 6]]])
    out = warp(x, m, fill=-1.0)
    assert_close(out[0, :, :, :5], x[0, :, :, 1:])
    assert_close(out[0, :, :, 5], torch.full((1, 6), -1.0))  # the column that came in from outside
    assert_close(out[1, :, 1:, :], x[1, :, :5, :])  # t_y = -2 / H: row i reads row i - 1
    assert_close(out[1, :, 0, :], torch.full((1, 6), -1.0))


def test_rotation_only_matrices_are_rotations_within_the_bound():
    m = affine_matrices(200, AffineJitter(rotate=10), 28, torch.Generator().manual_seed(1))
    a = m[:, :, :2]
    assert_close(a @ a.transpose(1, 2), torch.eye(2).expand(200, 2, 2))  # orthonormal
    assert_close(torch.linalg.det(a), torch.ones(200))  # no reflection
    angle = torch.atan2(a[:, 1, 0], a[:, 0, 0])
    assert float(angle.abs().max()) <= math.radians(10) + 1e-6
    assert float(angle.abs().max()) > math.radians(8)  # the draws span the bound
    assert torch.equal(m[:, :, 2], torch.zeros(200, 2))


def test_shift_only_matrices_translate_by_at_most_shift_pixels():
    m = affine_matrices(200, AffineJitter(shift=2), 28, torch.Generator().manual_seed(2))
    assert torch.equal(m[:, :, :2], torch.eye(2).expand(200, 2, 2))
    t = m[:, :, 2] * 28 / 2  # normalised -> pixels
    assert float(t.abs().max()) <= 2 + 1e-5 and float(t.abs().max()) > 1.8


# ----------------------------------------------------------------------------- in the DANN method and gankit.adapt


def _image_pair() -> RunData:
    g = torch.Generator().manual_seed(0)
    data = lambda n: TensorData(torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, torch.arange(n) % 2, classes=["a", "b"])  # noqa: E731
    return RunData({"source": data(16), "target": data(16), "target_test": data(8)}, main="source")


def _rows_of(batch: torch.Tensor, pool: torch.Tensor) -> bool:
    """Whether every item of ``batch`` is, exactly, an item of ``pool``."""
    return all(any(torch.equal(b, p) for p in pool) for b in batch)


def _dann(variant: str, data: RunData, *overrides: str):
    cfg = load_config("dann-mnist-m", [f"dann.variant={variant}", "train.batch_size=8", "train.steps=3", *overrides])
    method = build_method(cfg, data.spec, torch.device("cpu"))
    method.setup(TrainContext(data, torch.device("cpu"), 8, 3))
    return method


@pytest.mark.parametrize("augment", [False, True])
def test_dann_jitters_the_labelled_source_batch_only(monkeypatch, augment):
    data = _image_pair()
    seen = {}

    def spy(name, real):
        def step(nets, opt, x, y, *rest, **kw):
            seen.setdefault(name, []).append((x, rest[0] if rest else None))
            return real(nets, opt, x, y, *rest, **kw)

        return step

    for name in ("dann_step", "source_only_step", "supervised_step"):
        monkeypatch.setattr(dann_module, name, spy(name, getattr(dann_module, name)))
    for variant in ("dann", "source_only", "target_only"):
        method = _dann(variant, data, f"dann.augment={str(augment).lower()}")
        for _ in range(3):
            method.step()
    source, target = data.parts["source"].x, data.parts["target"].x
    for name in ("dann_step", "source_only_step"):
        for x_s, x_t in seen[name]:
            assert _rows_of(x_s, source) is (not augment)  # jittered exactly when augment is on
            assert _rows_of(x_t, target)  # the target batch is never changed
    # target_only trains on target items: never jittered (source_only_step calls supervised_step too)
    target_batches = seen["supervised_step"][-3:]
    assert all(_rows_of(x, target) for x, _ in target_batches)


def test_adapt_presets_per_pair_and_user_settings_win():
    digits = A.study_config("digits", "mnist")
    assert (digits.dann.augment, digits.dann.bottleneck, digits.train.steps, digits.dann.lr, digits.dann.lambda_max) == (False, 128, 4000, 0.05, 1.0)
    assert digits.dann.jitter().is_identity
    other = A.study_config("mnist", "mnist-m")
    assert (other.dann.augment, other.dann.bottleneck, other.train.steps) == (False, 0, 2500)
    assert A.study_config("moons", "moons-rotated").dann.separate_bn is False
    assert A.preset_for("folder:a", "folder:b") == "dann-mnist-m"
    # A setting given by the user wins over the pair's preset.
    mine = A.study_config("digits", "mnist", overrides=["dann.augment=true", "dann.bottleneck=0"])
    assert mine.dann.bottleneck == 0
    assert mine.dann.jitter() == AffineJitter(shift=2.0, rotate=10.0, scale=0.1, aspect=0.1, shear=0.1)


def test_dann_augment_on_vectors_is_a_user_error():
    cfg = A.study_config("moons", "moons-rotated", overrides=["dann.augment=true"])
    with pytest.raises(UserError, match="augment=true: the affine jitter needs images"):
        build_method(cfg, DataSpec((2,)), torch.device("cpu"))
