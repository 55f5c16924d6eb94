"""The training context: streams over named data parts, their checks, and gradient averaging in one process."""

import pytest
import torch

from gankit.data import RunData, TensorData
from gankit.errors import UserError
from gankit.train.context import TrainContext


def _ctx(batch_size=4, world_size=1):
    parts = {"source": TensorData(torch.randn(10, 2), torch.arange(10) % 2), "target": TensorData(torch.randn(6, 2))}
    return TrainContext(RunData(parts, main="source"), torch.device("cpu"), batch_size, 10, seed=3, world_size=world_size)


def test_streams_are_registered_by_name_and_yield_dict_batches():
    ctx = _ctx()
    a = ctx.stream("source")
    b = ctx.stream("target", 2, seed=9, name="unlabelled")
    assert set(ctx.streams) == {"source", "unlabelled"}
    batch = next(a)
    assert set(batch) == {"x", "y"} and batch["x"].shape == (4, 2)
    assert set(next(b)) == {"x"}  # unlabelled data has no y
    assert a.seed == 3 and b.seed == 9  # train.seed unless a stream has its own


def test_a_second_stream_over_a_part_needs_its_own_name():
    ctx = _ctx()
    ctx.stream("target", 2)
    with pytest.raises(ValueError, match="its own name"):
        ctx.stream("target", 2)


@pytest.mark.parametrize("part, batch, world, message", [
    ("train", 4, 1, "needs data part 'train'"),
    ("target", 8, 1, "exceeds the 6 items"),
    ("source", 3, 2, "not divisible by the 2 processes"),
])
def test_bad_streams_are_user_errors(part, batch, world, message):
    with pytest.raises(UserError, match=message):
        _ctx(world_size=world).stream(part, batch)


def test_average_gradients_is_a_no_op_in_one_process():
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.full((3,), 2.0)
    _ctx().average_gradients([p])
    assert torch.equal(p.grad, torch.full((3,), 2.0))
