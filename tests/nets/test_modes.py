"""eval_mode: networks run in eval mode inside the block and get their own training flags back, even on errors."""

import pytest
import torch
from torch import nn

from gankit.nets.modes import eval_mode


def test_eval_mode_uses_running_statistics_and_restores_each_flag():
    bn, drop = nn.BatchNorm1d(3), nn.Dropout(0.5).eval()
    x = torch.randn(8, 3) * 5 + 2
    with eval_mode(bn, drop):
        assert not bn.training and not drop.training
        torch.testing.assert_close(bn(x), x / (1 + 1e-5) ** 0.5)  # fresh running stats: mean 0, variance 1
    assert bn.training and not drop.training  # each flag as it was, not all set to True
    assert int(bn.num_batches_tracked) == 0  # the block did not update the running statistics


def test_eval_mode_restores_the_flag_when_the_body_raises():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    with pytest.raises(RuntimeError), eval_mode(net):
        raise RuntimeError("boom")
    assert net.training and all(m.training for m in net.modules())
