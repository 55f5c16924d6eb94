"""``--class`` for ``gankit interpolate`` and ``gankit invert``: walks and inversions of a class-conditional run
with the class fixed, and one-line errors (exit 2) for unknown classes and unconditional runs."""

import torch
from torch.testing import assert_close

import gankit
from gankit.cli import main
from gankit.sampling.latent import interpolation_latents

def _one_line_error(capsys, *args) -> str:
    assert main(list(args)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_interpolation_with_a_fixed_class(cgan_run, tmp_path, capsys):
    walk = gankit.interpolate(cgan_run, rows=2, steps=5, seed=3, cls="sneaker")
    method, _ = gankit.load_generator(cgan_run)
    z = interpolation_latents(2, 5, method.z_dim, "slerp", 3)
    assert_close(walk, method.sample(z, torch.full((10,), 7)))  # every step class 7: only z moves
    assert not torch.allclose(walk, gankit.interpolate(cgan_run, rows=2, steps=5, seed=3))  # classes in turn
    out = tmp_path / "w.png"
    assert main(["interpolate", "--run", str(cgan_run), "--out", str(out), "--rows", "2", "--steps", "3",
                 "--class", "bag"]) == 0
    assert out.is_file() and "of class bag" in capsys.readouterr().out
    err = _one_line_error(capsys, "interpolate", "--run", str(cgan_run), "--out", str(out), "--class", "boot")
    assert "'boot'" in err and "no such class" in err


def test_inversion_with_a_fixed_class(cgan_run, tmp_path, capsys):
    x = gankit.sample(cgan_run, n=2, seed=5, cls=3)
    res = gankit.invert(cgan_run, x, mask="none", steps=3, restarts=1, cls="dress")
    method, _ = gankit.load_generator(cgan_run)
    assert_close(res["reconstruction"], method.decode(res["z"], 3).detach())  # G(z, dress) for the found z
    out = tmp_path / "inv.png"
    assert main(["invert", "--run", str(cgan_run), "--out", str(out), "-n", "2", "--steps", "2", "--restarts", "1",
                 "--class", "3", "--no-progress"]) == 0
    assert out.is_file()
    capsys.readouterr()
    err = _one_line_error(capsys, "invert", "--run", str(cgan_run), "--out", str(out), "--class", "10")
    assert "10 classes" in err


def test_class_on_an_unconditional_run_is_a_one_line_error(tmp_path, small_data, tiny_overrides, capsys):
    run = tmp_path / "gan"
    assert main(["train", "--run-dir", str(run), "--steps", "2", "--no-progress", *tiny_overrides]) == 0
    capsys.readouterr()
    for cmd in ("interpolate", "invert"):
        err = _one_line_error(capsys, cmd, "--run", str(run), "--out", str(tmp_path / "x.png"), "--class", "bag")
        assert "unconditional" in err, err
