import os
import pickle

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gankit.errors import UserError
from gankit.train import checkpoint as ckpt_mod
from gankit.train.checkpoint import find_checkpoint, load_checkpoint, save_checkpoint


def _modules():
    torch.manual_seed(0)
    return {"G": nn.Linear(3, 2), "D": nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4))}


def test_round_trip_of_weights_optimizer_and_rng(tmp_path):
    mods = _modules()
    opt = torch.optim.Adam(mods["G"].parameters(), lr=1e-3, betas=(0.5, 0.999))
    mods["G"](torch.randn(4, 3)).sum().backward()
    opt.step()
    rng = torch.get_rng_state()
    state = {"optimizers": {"G": opt.state_dict()}, "rng": {"torch": rng}, "note": [1, 2.5, None]}
    save_checkpoint(tmp_path, 7, mods, state)
    ck = load_checkpoint(tmp_path.parent / tmp_path.name / "step_00000007")
    assert ck.step == 7 and ck.state["note"] == [1, 2.5, None]
    assert_close(ck.module_state("G")["weight"], mods["G"].weight.detach())
    opt2 = torch.optim.Adam(nn.Linear(3, 2).parameters(), lr=1.0)
    opt2.load_state_dict(ck.state["optimizers"]["G"])
    assert opt2.param_groups[0]["lr"] == 1e-3
    assert_close(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    assert torch.equal(ck.state["rng"]["torch"], rng)


def test_keeps_only_the_newest_checkpoints(tmp_path):
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, step, _modules(), {}, keep=2)
    assert sorted(p.name for p in tmp_path.glob("step_*")) == ["step_00000002", "step_00000003"]
    assert (tmp_path / "latest").read_text() == "step_00000003"


def test_interrupted_write_leaves_previous_checkpoint_loadable(tmp_path, monkeypatch):
    run = tmp_path / "run"
    save_checkpoint(run / "checkpoints", 4, _modules(), {"x": 1})
    real_save = ckpt_mod.save_file
    calls = {"n": 0}

    def crash_on_second_file(tensors, path):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process dies half-way through the write
        real_save(tensors, path)

    monkeypatch.setattr(ckpt_mod, "save_file", crash_on_second_file)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(run / "checkpoints", 8, _modules(), {"x": 2})
    ck = load_checkpoint(run)
    assert ck.step == 4 and ck.state["x"] == 1
    assert find_checkpoint(run).name == "step_00000004"


def test_falls_back_when_latest_pointer_is_missing(tmp_path):
    save_checkpoint(tmp_path / "checkpoints", 3, _modules(), {})
    os.remove(tmp_path / "checkpoints" / "latest")
    assert load_checkpoint(tmp_path).step == 3


class _Exploit:
    def __reduce__(self):
        return (open, (str(_Exploit.target), "w"))  # would create a file if unpickled


def test_crafted_pickle_is_refused(tmp_path):
    _Exploit.target = tmp_path / "pwned"
    folder = tmp_path / "checkpoints" / "step_00000001"
    folder.mkdir(parents=True)
    payload = pickle.dumps({"step": 1, "x": _Exploit()})
    for name in ("weights.safetensors", "state.safetensors", "state.json"):
        (folder / name).write_bytes(payload)
    with pytest.raises(UserError, match="not a valid gankit checkpoint"):
        load_checkpoint(tmp_path)
    assert not _Exploit.target.exists()


def test_no_checkpoint_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no checkpoint"):
        load_checkpoint(tmp_path)


def _two_checkpoints(run):
    for step, x in ((2, "old"), (4, "new")):
        save_checkpoint(run / "checkpoints", step, _modules(), {"x": x})
    return run / "checkpoints" / "step_00000004"


@pytest.mark.parametrize("damage", ["truncate", "flip_byte", "delete_state"])
def test_damaged_newest_checkpoint_falls_back_with_a_warning(tmp_path, capsys, damage):
    newest = _two_checkpoints(tmp_path)
    weights = newest / "weights.safetensors"
    if damage == "truncate":  # a full disk: the file stops half-way
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif damage == "flip_byte":  # same size, one tensor value altered: only the checksum sees it
        data = bytearray(weights.read_bytes())
        data[-3] ^= 0xFF
        weights.write_bytes(bytes(data))
    else:
        (newest / "state.json").unlink()
    ck = load_checkpoint(tmp_path)
    assert ck.step == 2 and ck.state["x"] == "old"
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "step_00000004" in warning[0] and "using step_00000002" in warning[0]


def test_no_checkpoint_verifies_is_one_user_error(tmp_path):
    _two_checkpoints(tmp_path)
    for folder in (tmp_path / "checkpoints").glob("step_*"):
        (folder / "state.safetensors").write_bytes(b"\0" * 10)
    with pytest.raises(UserError, match="none of its 2 checkpoints verifies") as e:
        load_checkpoint(tmp_path)
    assert "\n" not in str(e.value)


def test_a_checkpoint_named_directly_does_not_fall_back(tmp_path):
    newest = _two_checkpoints(tmp_path)
    (newest / "weights.safetensors").write_bytes(b"garbage")
    with pytest.raises(UserError, match="step_00000004: not a valid gankit checkpoint"):
        load_checkpoint(newest)
