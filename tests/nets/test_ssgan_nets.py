"""The semi-supervised GAN's classifier (gankit.nets.ssgan): the data-dependent initialisation, fixed scales."""

import pytest
import torch
from torch.testing import assert_close

from gankit.nets.ssgan import SSClassifier, init_from_data


def _preactivations(D: SSClassifier, x: torch.Tensor) -> list[torch.Tensor]:
    outs: list[torch.Tensor] = []
    layers = [m for m in D.modules() if hasattr(m, "parametrizations")]
    hooks = [m.register_forward_hook(lambda _m, _i, out: outs.append(out)) for m in layers]
    D.eval()
    D(x)
    for h in hooks:
        h.remove()
    return outs


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_data_init_gives_every_unit_mean_0_and_std_1_on_the_batch(arch):
    torch.manual_seed(0)
    D = SSClassifier((1, 28, 28), 10, arch, hidden=(64, 32), width=4)
    x = torch.rand(200, 1, 28, 28) * 2 - 1
    init_from_data(D, x)
    outs = _preactivations(D, x)
    assert len(outs) == (3 if arch == "mlp" else 6)  # every weight-normalised layer, the output layer too
    for out in outs:
        dims = [d for d in range(out.dim()) if d != 1]
        assert_close(out.mean(dims), torch.zeros(out.shape[1]), atol=1e-4, rtol=0)
        assert_close(out.std(dims), torch.ones(out.shape[1]), atol=1e-4, rtol=0)


def test_hidden_scales_are_fixed_unless_asked_and_the_output_scale_trains():
    def trained(D: SSClassifier) -> list[bool]:
        return [
            m.parametrizations.weight.original0.requires_grad for m in D.modules() if hasattr(m, "parametrizations")
        ]

    assert trained(SSClassifier((1, 28, 28), 10, hidden=(8, 8))) == [False, False, True]
    assert trained(SSClassifier((1, 28, 28), 10, hidden=(8, 8), train_hidden_scale=True)) == [True, True, True]
