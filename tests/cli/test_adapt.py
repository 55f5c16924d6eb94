"""``gankit adapt`` end to end on a small folder fixture, and its one-line errors."""

import json

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.errors import UserError


def _domain(root, tint, n=12, seed=0):
    """Two classes: a bright bar on the left (``left``) or the right (``right``), over a tinted background."""
    rng = np.random.default_rng(seed)
    for c in ("left", "right"):
        (root / c).mkdir(parents=True)
        for i in range(n):
            a = (rng.uniform(0, 60, (28, 28, 3)) + tint).clip(0, 255)
            cols = slice(2, 12) if c == "left" else slice(16, 26)
            a[:, cols] = 255
            Image.fromarray(a.astype(np.uint8)).save(root / c / f"{i}.png")
    return root


@pytest.fixture
def folders(tmp_path):
    return _domain(tmp_path / "src", np.array([0, 0, 0])), _domain(tmp_path / "tgt", np.array([120, 30, 0]), seed=1)


def test_adapt_on_folders_writes_results_and_figures(folders, tmp_path, capsys):
    src, tgt = folders
    out = tmp_path / "out"
    args = ["adapt", "--source", f"folder:{src}", "--target", f"folder:{tgt}", "--out", str(out), "--seeds", "2", "--steps", "30", "--no-progress"]
    assert main(args + ["--sa-dim", "4", "train.batch_size=8", "eval.eval_every=10", "train.log_every=5", "data.img_size=28"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert list(res["results"]) == ["source_only", "adabn", "subspace_alignment", "dann", "target_only"]
    for r in res["results"].values():
        assert len(r["per_seed"]) == 2
        assert r["mean"] == pytest.approx(np.mean(r["per_seed"]))
        assert r["std"] == pytest.approx(np.std(r["per_seed"], ddof=1))
    assert res["items"] == {"source": 24, "target": 18, "target_test": 6}
    for name in ("results.md", "config.yaml", "domain_error.png", "target_accuracy.png", "features.png"):
        assert (out / name).is_file(), name
    assert not (out / "decision_boundary.png").exists()  # images, not 2-D points
    run = out / "dann" / "seed1"
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].split(",")[:5] == ["step", "label_loss", "domain_loss", "domain_error", "label_acc"]
    assert "eval_target_acc" in rows[0].split(",")
    assert [r.split(",")[0] for r in rows[1:]] == ["5", "10", "15", "20", "25", "30"]
    assert (run / "checkpoints" / "latest").read_text() == "step_00000030"
    assert any((run / "tb").iterdir())
    assert (run / "config.yaml").is_file() and (run / "samples" / "step_00000030.png").is_file()  # a regular run directory
    assert "| dann |" in capsys.readouterr().out


@pytest.mark.parametrize(
    "case, message",
    [
        ("flat", "no class sub-folders"),
        ("mismatch", "different classes"),
        ("unknown", "unknown domain 'usps'"),
        ("setting", "unknown config key 'dann.learning_rate'"),
        ("seeds", "config key 'seeds'"),
    ],
)
def test_bad_inputs_give_one_line_errors_and_exit_2(folders, tmp_path, capsys, case, message):
    src, tgt = folders
    flat = tmp_path / "flat"
    flat.mkdir()
    Image.new("RGB", (28, 28)).save(flat / "x.png")
    (tgt / "right").rename(tgt / "middle")
    source, target, extra = {
        "flat": (f"folder:{flat}", f"folder:{src}", []),
        "mismatch": (f"folder:{src}", f"folder:{tgt}", []),
        "unknown": ("usps", "mnist", []),
        "setting": ("moons", "moons-rotated", ["dann.learning_rate=0.1"]),
        "seeds": ("moons", "moons-rotated", ["--seeds", "0"]),
    }[case]
    code = main(["adapt", "--source", source, "--target", target, "--out", str(tmp_path / "o"), "--no-progress", *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("gankit adapt: error: ") and message in err and err.count("\n") == 1


def test_adabn_changes_only_batch_norm_statistics(tmp_path):
    # The moons' networks have no batch norm: AdaBN must then score exactly as source only. (Its effect on image
    # networks is tested on the statistics themselves in tests/methods/test_dann.py.)
    from gankit.adapt import adapt

    res = adapt("moons", "moons-rotated", out=tmp_path, seeds=1, methods=["source_only", "adabn"],
                overrides=["train.steps=30", "train.log_every=10", "eval.eval_every=30"], progress=False)  # fmt: skip
    assert res.summary["adabn"]["per_seed"] == res.summary["source_only"]["per_seed"]
    with pytest.raises(UserError, match="adabn works on source_only"):
        adapt("moons", "moons-rotated", out=tmp_path / "x", seeds=1, methods=["adabn"], progress=False)
