"""``gankit evaluate``: sources (.npz, folder, run), the JSON, and one-line errors with exit code 2."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.images import to_uint8


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))  # reference features of this test only


def test_npz_of_the_reference_images_scores_fid_zero_and_full_precision_recall(tmp_path, capsys):
    from gankit.data import load_dataset
    from gankit.metrics.reference import subset_index

    test = load_dataset("fashion-mnist", split="test")
    idx = subset_index(len(test), 200, seed=0)  # exactly the reference subset evaluate draws for -n 200
    np.savez_compressed(tmp_path / "s.npz", images=to_uint8(test.x[idx]))
    out = tmp_path / "r.json"
    rc = main(["evaluate", str(tmp_path / "s.npz"), "--against", "fashion-mnist:test", "-n", "200", "--json", str(out),
               "--out-dir", str(tmp_path / "ev"), "--no-progress"])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["fid"] == pytest.approx(0.0, abs=1e-4)  # float error on covariances with a trace of ~1e3
    assert (res["precision"], res["recall"], res["coverage"]) == (1.0, 1.0, 1.0)
    assert res["extractor"] == "fashion-mnist-classifier" and res["n_fake"] == res["n_real"] == 200
    # a set against itself is not two independent samples: the unbiased MMD^2 is then negative
    # (the k(x, x) terms enter only the cross term); the command must give the function's value
    from gankit.metrics import kid
    from gankit.metrics.reference import reference_features

    real = reference_features("fashion-mnist", "test", "fashion-mnist-classifier", 200)[0]
    assert res["kid"] == pytest.approx(kid(real, real, subsets=100, subset_size=1000, seed=0)[0], rel=1e-12)
    assert res["class_kl"] == pytest.approx(0.0, abs=1e-12) and res["classes_hit"] == 10
    # IS by hand (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))) on each of 10 consecutive chunks, averaged
    probs = reference_features("fashion-mnist", "test", "fashion-mnist-classifier", 200)[1].double()
    by_hand = [float(torch.exp((c * (c.log() - c.mean(0, keepdim=True).log())).sum(1).mean())) for c in probs.chunk(10)]
    assert res["is"] == pytest.approx(sum(by_hand) / 10, rel=1e-6) and res["is"] > 5  # real images: confident, diverse
    assert (tmp_path / "ev" / "memorisation.png").is_file()
    assert "fid" in capsys.readouterr().out


def test_wrong_npz_and_corrupt_folder_give_one_line_and_exit_2(tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", images=np.zeros((4, 28, 28, 5), dtype=np.uint8))
    assert main(["evaluate", str(tmp_path / "bad.npz"), "-n", "4"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "uint8 N x H x W x C" in err
    np.savez(tmp_path / "nokey.npz", x=np.zeros((4, 28, 28), dtype=np.uint8))
    assert main(["evaluate", str(tmp_path / "nokey.npz")]) == 2
    assert "no array 'images'" in capsys.readouterr().err
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(folder / "ok.png")
    (folder / "broken.png").write_bytes(b"not a png at all")
    assert main(["evaluate", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "broken.png" in err
    assert main(["evaluate", str(tmp_path / "nothing.txt")]) == 2
    assert main(["evaluate", str(tmp_path / "bad.npz"), "--metrics", "fid,nope"]) == 2


def test_run_directory_source(tmp_path, tiny_overrides):
    import gankit

    cfg = gankit.load_config("dcgan-fashion-mnist", tiny_overrides + ["train.steps=2"])
    gankit.train(cfg, tmp_path / "run", progress=False)
    out = tmp_path / "r.json"
    assert main(["evaluate", str(tmp_path / "run"), "-n", "64", "--metrics", "fid,is,classes", "--json", str(out), "--no-progress"]) == 0
    res = json.loads(out.read_text())
    assert res["fid"] > 0 and res["n_fake"] == 64 and set(res) >= {"fid", "is", "is_std", "classes_hit"}
    histogram = res["class_histogram"]  # fractions of the 64 samples per class: classes_hit counts the non-empty
    assert sum(histogram) == pytest.approx(1.0) and all(round(h * 64, 6).is_integer() for h in histogram)
    assert res["classes_hit"] == sum(h > 0 for h in histogram)
