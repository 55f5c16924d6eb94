import math

import pytest
import torch

from gankit.config import load_config, validate
from gankit.data import DataSpec
from gankit.errors import UserError
from gankit.methods import build_method
from gankit.methods.schedule import lr_factor


@pytest.mark.parametrize(
    "schedule, step, expected",
    [
        ("constant", 70, 1.0),
        ("linear", 0, 1.0),
        ("linear", 50, 1.0),  # still held: decay starts at 0.5 * 100
        ("linear", 75, 1.0 - 0.9 * 0.5),  # half-way through the decay towards 0.1
        ("linear", 100, 0.1),
        ("linear", 130, 0.1),  # clipped past the end
        ("cosine", 50, 1.0),
        ("cosine", 75, 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2))),
        ("cosine", 100, 0.1),
    ],
)
def test_lr_factor_at_given_steps(schedule, step, expected):
    assert lr_factor(schedule, step, 100, decay_start=0.5, final_factor=0.1) == pytest.approx(expected, abs=1e-12)


def test_lr_factor_rejects_unknown_schedule():
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        lr_factor("step", 1, 10)


def test_config_rejects_bad_schedule_values():
    with pytest.raises(UserError, match="optim.lr_schedule"):
        load_config(None, ["optim.lr_schedule=exponential"])
    with pytest.raises(UserError, match="optim.lr_decay_start"):
        load_config(None, ["optim.lr_decay_start=1.0"])


def test_gan_learning_rates_follow_the_linear_schedule():
    cfg = validate({"data": {"name": "ring"}, "model": {"arch": "mlp", "z_dim": 2, "g_width": 8, "d_width": 8},
                    "optim": {"g_lr": 1e-3, "d_lr": 4e-3, "lr_schedule": "linear", "lr_decay_start": 0.5},
                    "train": {"steps": 4, "batch_size": 8, "device": "cpu"}})
    torch.manual_seed(0)
    gan = build_method(cfg, DataSpec((2,)), torch.device("cpu"))
    gan.batches = iter([{"x": torch.randn(8, 2)}] * 4)  # the stream setup() would take
    seen = []
    for _ in range(4):
        gan.step()
        seen.append((gan.opt_G.param_groups[0]["lr"], gan.opt_D.param_groups[0]["lr"]))
    # after t G steps of T = 4, decay from t0 = 2: factor 1, 1, 0.5, 0
    torch.testing.assert_close(torch.tensor(seen, dtype=torch.float64), torch.tensor([(1e-3, 4e-3), (1e-3, 4e-3), (5e-4, 2e-3), (0.0, 0.0)], dtype=torch.float64))
    state = gan.state_dict()
    assert state["lr_schedule_G"]["last_epoch"] == 4
