import numpy as np
import pytest
import torch
from PIL import Image

import gankit
from gankit.cli import build_parser, main
from gankit.sampling.truncation import truncated_latents


def test_help_lists_every_subcommand_and_each_has_its_own_help(capsys):
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    names = set(sub.choices)
    assert {"train", "sample", "evaluate", "interpolate", "invert", "lab", "adapt", "upscale", "translate"} <= names
    text = parser.format_help()
    for name, subparser in sub.choices.items():
        assert name in text  # listed in gankit --help
        with pytest.raises(SystemExit) as e:
            main([name, "--help"])
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: gankit {name}") and subparser.description  # says what the command does


def test_sample_png_and_npz(tmp_path, tiny_overrides, capsys):
    run = tmp_path / "run"
    assert main(["train", "--run-dir", str(run), "--steps", "2", "--no-progress", *tiny_overrides]) == 0
    assert "samples:" in capsys.readouterr().out
    assert main(["sample", "--run", str(run), "-n", "8", "--seed", "1", "--out", str(tmp_path / "s.npz")]) == 0
    arr = np.load(tmp_path / "s.npz")["images"]
    assert arr.shape == (8, 28, 28, 1) and arr.dtype == np.uint8
    assert main(["sample", "--run", str(run), "-n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert Image.open(tmp_path / "s.png").size[0] > 28
    # the same seed gives the same samples; the API agrees with the CLI
    np.testing.assert_array_equal(gankit.images.to_uint8(gankit.sample(run, n=8, seed=1)), arr)


def test_sample_from_a_non_run_is_a_user_error(tmp_path, capsys):
    assert main(["sample", "--run", str(tmp_path), "--out", str(tmp_path / "x.png")]) == 2
    assert "not a gankit run directory" in capsys.readouterr().err


def test_resume_with_config_is_refused(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path), "--config", "x.yaml"]) == 2


def test_sample_of_a_toy_run_is_a_scatter_plot_and_points(tmp_path):
    run = tmp_path / "ring"
    assert main(["train", "--config", "gan-mlp-ring", "--run-dir", str(run), "--steps", "4", "--no-progress",
                 "train.log_every=2", "train.checkpoint_every=4"]) == 0
    assert main(["sample", "--run", str(run), "-n", "100", "--out", str(tmp_path / "p.npz")]) == 0
    assert np.load(tmp_path / "p.npz")["points"].shape == (100, 2)
    assert main(["sample", "--run", str(run), "-n", "100", "--out", str(tmp_path / "p.png")]) == 0
    assert Image.open(tmp_path / "p.png").size[0] > 100


def test_sample_with_jacobian_truncation(tmp_path, capsys):
    run = tmp_path / "grid"
    assert main(["train", "--config", "gan-mlp-ring", "--run-dir", str(run), "--steps", "4", "--no-progress",
                 "train.log_every=2", "train.checkpoint_every=4"]) == 0
    assert main(["sample", "--run", str(run), "-n", "50", "--jacobian-truncation", "0.3", "--out", str(tmp_path / "t.npz")]) == 0
    points = np.load(tmp_path / "t.npz")["points"]
    # the API agrees with the CLI, and the kept samples are G's samples at the kept latents
    np.testing.assert_array_equal(gankit.sample(run, n=50, jacobian_truncation=0.3).numpy(), points)
    method, _ = gankit.load_generator(run)
    z = truncated_latents(method.sample, 50, method.z_dim, 0.3, seed=0)
    np.testing.assert_allclose(method.sample(z).numpy(), points, rtol=1e-6)
    capsys.readouterr()
    assert main(["sample", "--run", str(run), "--jacobian-truncation", "1", "--out", str(tmp_path / "u.npz")]) == 2
    assert "--jacobian-truncation 1.0" in capsys.readouterr().err
    assert not (tmp_path / "u.npz").exists()


def test_interpolate_writes_one_walk_per_row_and_agrees_with_the_api(tmp_path, tiny_overrides, capsys):
    run = tmp_path / "run"
    assert main(["train", "--run-dir", str(run), "--steps", "2", "--no-progress", *tiny_overrides]) == 0
    assert main(["interpolate", "--run", str(run), "--rows", "3", "--steps", "4", "--out", str(tmp_path / "w.png")]) == 0
    # 4 columns by 3 rows of 28 px images with 2 px padding, the grid upscaled x2 for viewing
    assert Image.open(tmp_path / "w.png").size == (2 * (4 * 30 + 2), 2 * (3 * 30 + 2))
    assert main(["interpolate", "--run", str(run), "--rows", "3", "--steps", "4", "--out", str(tmp_path / "w.npz")]) == 0
    walks = gankit.interpolate(run, rows=3, steps=4)
    np.testing.assert_array_equal(gankit.images.to_uint8(walks), np.load(tmp_path / "w.npz")["images"])
    capsys.readouterr()
    assert main(["interpolate", "--run", str(run), "--steps", "1", "--out", str(tmp_path / "bad.png")]) == 2
    assert "steps 1" in capsys.readouterr().err and not (tmp_path / "bad.png").exists()


def test_invert_and_inpaint_from_the_command_line(tmp_path, tiny_overrides, capsys):
    import json

    import pytest

    run = tmp_path / "run"
    assert main(["train", "--run-dir", str(run), "--steps", "2", "--no-progress", *tiny_overrides]) == 0
    capsys.readouterr()
    assert main(["invert", "--run", str(run), "-n", "3", "--steps", "5", "--restarts", "2", "--mask", "left",
                 "--out", str(tmp_path / "inp.png"), "--json", str(tmp_path / "inp.json"), "--no-progress"]) == 0
    assert "hidden_mse" in capsys.readouterr().out
    # rows: originals, masked, G(z), filled; 3 images per row
    assert Image.open(tmp_path / "inp.png").size == (2 * (3 * 30 + 2), 2 * (4 * 30 + 2))
    summary = json.loads((tmp_path / "inp.json").read_text())
    assert summary["images"] == 3 and len(summary["per_image"]["hidden_mse"]) == 3
    assert main(["invert", "--run", str(run), "--mask", "diagonal", "--out", str(tmp_path / "bad.png")]) == 2
    assert "mask 'diagonal'" in capsys.readouterr().err and not (tmp_path / "bad.png").exists()
    with pytest.raises(gankit.errors.UserError, match="do not match"):
        gankit.invert(run, torch.zeros(2, 1, 32, 32))
    res = gankit.invert(run, torch.zeros(2, 1, 28, 28), steps=3, restarts=1)
    assert res["filled"].shape == (2, 1, 28, 28) and res["z"].shape == (2, 100)


def test_overrides_may_stand_between_options(tmp_path):
    from gankit.train import load_checkpoint
    from gankit.config import load_config

    run = tmp_path / "run"
    args = ["train", "model.g_width=8", "--steps", "2", "model.d_width=8", "--run-dir", str(run), "--no-progress",
            "train.batch_size=16", "train.log_every=1"]
    assert main(args) == 0
    cfg = load_config(run / "config.yaml")
    assert (cfg.model.g_width, cfg.model.d_width, cfg.train.batch_size, cfg.train.steps) == (8, 8, 16, 2)
    assert load_checkpoint(run).step == 2


def test_stray_arguments_are_still_one_line_errors(capsys):
    assert main(["train", "--steps", "2", "oops"]) == 2  # taken as an override, which it is not
    assert "override 'oops' is not of the form KEY=VALUE" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["train", "a=1", "--steps", "2", "oops", "b=2"])  # left over after the options: argparse's error
    assert e.value.code == 2 and "unrecognized arguments: oops b=2" in capsys.readouterr().err


def test_tools_that_need_a_generator_refuse_a_dann_run_in_one_line(tmp_path, capsys):
    from gankit.config import apply_overrides, validate
    from gankit.methods import METHODS
    from gankit.train import train_run

    cfg = validate(apply_overrides({"method": "dann"}, METHODS["dann"].smoke + ["train.steps=2"]))
    train_run(cfg, tmp_path / "run", progress=False)
    for args in (["sample", "--run", str(tmp_path / "run"), "--out", str(tmp_path / "x.png")],
                 ["evaluate", str(tmp_path / "run"), "--against", "fashion-mnist:test", "-n", "10"]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "a dann run has no generator to sample from" in err
    assert not (tmp_path / "x.png").exists()


def test_a_spent_time_budget_stops_with_a_checkpoint_and_says_so(tmp_path, capsys):
    """--minutes (train.minutes) stops before train.steps, checkpointed, and the summary names both steps."""
    run = tmp_path / "ring"
    args = ["--config", "gan-mlp-ring", "--run-dir", str(run), "--steps", "100000", "--minutes", "0.02", "--no-progress"]
    assert main(["train", *args]) == 0
    out = capsys.readouterr().out.splitlines()[0]
    stopped = int(out.split("stopped at step ")[1].split()[0])
    assert out.startswith("time budget (train.minutes) spent") and "of 100000," in out and 0 < stopped < 100000
    assert (run / "checkpoints" / "latest").read_text().strip().endswith(f"{stopped:08d}")
    assert main(["train", "--run-dir", str(tmp_path / "short"), "--config", "gan-mlp-ring", "--steps", "3",
                 "--minutes", "5", "--no-progress"]) == 0
    assert capsys.readouterr().out.startswith("finished at step 3 in ")
