"""Virtual batch norm (gankit.nets.vbn): the layer's closed form, D's output for a sample independent of its
batch, the conversion keeping D's Parameters, the reference statistics following D's weights, and the GAN
switch ``gan.virtual_batchnorm`` training and resuming exactly."""

import csv

import pytest
import torch
from torch import nn
from torch.testing import assert_close

import gankit
from gankit.config import load_config
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.methods.tricks import TRICKS, Tricks
from gankit.nets import DCGANDiscriminator
from gankit.nets.vbn import ReferenceBatch, VirtualBatchNorm, convert_batchnorm
from gankit.train import load_checkpoint, train_run


def _vbn_d(seed: int = 0, n_ref: int = 16):
    torch.manual_seed(seed)
    D = DCGANDiscriminator(28, 1, width=4)
    convert_batchnorm(D)
    return D, ReferenceBatch(D, torch.randn(n_ref, 1, 28, 28))


@pytest.mark.parametrize("shape", [(6, 3), (6, 3, 4, 5)])
def test_an_example_is_normalised_as_batch_norm_of_the_reference_plus_itself(shape):
    """One layer: VBN(x_i) = BN_train([ref; x_i])[last] (the pooled statistics of n + 1 examples), affine included."""
    torch.manual_seed(0)
    bn = nn.BatchNorm1d(3) if len(shape) == 2 else nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([0.5, 2.0, -1.0]))
        bn.bias.copy_(torch.tensor([0.1, 0.0, 3.0]))
    ref, x = 2 + 3 * torch.randn(*shape), torch.randn(4, *shape[1:])
    net = nn.Sequential(bn)
    layer = convert_batchnorm(net)[0]
    ReferenceBatch(net, ref)
    out = net(x)
    bn_ref = nn.BatchNorm1d(3) if len(shape) == 2 else nn.BatchNorm2d(3)
    bn_ref.load_state_dict({"weight": bn.weight, "bias": bn.bias}, strict=False)
    for i in range(len(x)):
        want = bn_ref(torch.cat([ref, x[i : i + 1]]))[-1]
        assert_close(out[i], want, rtol=1e-5, atol=1e-5)
    assert layer.reference[2] == len(ref)
    layer.collecting = True  # the reference pass: the reference batch normalised with its own statistics
    assert_close(layer(ref), bn_ref(ref))


def test_d_output_for_a_sample_does_not_depend_on_the_rest_of_its_batch():
    D, _ = _vbn_d()
    x = torch.randn(1, 1, 28, 28)
    others_a = torch.randn(7, 1, 28, 28)
    others_b = 3 + 0.1 * torch.randn(12, 1, 28, 28)  # unlike x, and unlike others_a
    with torch.no_grad():
        alone = D(x)
        in_a = D(torch.cat([others_a, x]))[-1:]
        in_b = D(torch.cat([x, others_b]))[:1]
        D.eval()
        in_eval = D(torch.cat([others_b, x]))[-1:]  # no train/eval difference either
    assert_close(in_a, alone, rtol=1e-5, atol=1e-5)
    assert_close(in_b, alone, rtol=1e-5, atol=1e-5)
    assert_close(in_eval, alone, rtol=1e-5, atol=1e-5)
    # plain batch norm in training mode: the same sample gets a different output in each batch
    torch.manual_seed(0)
    plain = DCGANDiscriminator(28, 1, width=4)
    with torch.no_grad():
        outs = [plain(torch.cat([others_a, x]))[-1], plain(torch.cat([x, others_b]))[0]]
    assert (outs[0] - outs[1]).abs().item() > 1e-2  # (D's initial logits are ~0.1: 1000x the tolerance above)


def test_conversion_keeps_the_parameters_and_an_existing_optimizer_trains_them():
    torch.manual_seed(0)
    D = DCGANDiscriminator(28, 1, width=4)
    before = dict(D.named_parameters())
    bn = D.features[3]
    opt = torch.optim.Adam(D.parameters(), lr=0.1)  # built before the conversion, as the GAN's is
    layers = convert_batchnorm(D)
    assert len(layers) == 1 and D.features[3] is layers[0] and isinstance(layers[0], VirtualBatchNorm)
    assert layers[0].weight is bn.weight and layers[0].bias is bn.bias
    after = dict(D.named_parameters())
    assert list(after) == list(before) and all(after[k] is before[k] for k in before)
    assert not any("running" in k for k in D.state_dict())  # the running statistics go
    ReferenceBatch(D, torch.randn(8, 1, 28, 28))
    w = layers[0].weight.detach().clone()
    opt.zero_grad()
    D(torch.randn(4, 1, 28, 28)).square().mean().backward()
    opt.step()
    assert not torch.equal(layers[0].weight.detach(), w)


def test_the_reference_statistics_follow_the_current_weights():
    """Recomputed at each forward: scaling the conv before the VBN leaves D's output unchanged (normalisation
    absorbs the scale), whereas statistics kept from before the change would not; and the gradient reaches the
    weights through the reference pass."""
    D, ref = _vbn_d()
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        D.features[2].weight.mul_(100.0)  # DCGAN's N(0, 0.02) weights give variances near eps; lift them well above
        y = D(x)
        D.features[2].weight.mul_(5.0)
        assert_close(D(x), y, rtol=1e-4, atol=1e-4)
        mean_after = D.features[3].reference[0].clone()
        D.features[2].weight.div_(5.0)
        D(x)
        assert_close(mean_after, 5.0 * D.features[3].reference[0])
    # through the reference only: D(x) for the reference examples themselves is a function of the weights
    # both ways; a stale (detached) reference would give another gradient
    D.zero_grad()
    D(x).sum().backward()
    g = D.features[2].weight.grad.clone()
    stats = D.features[3].reference
    D.zero_grad()
    layer = D.features[3]
    layer.reference = tuple(s.detach() if torch.is_tensor(s) else s for s in stats)
    ref.remove()
    D(x).sum().backward()
    assert not torch.allclose(D.features[2].weight.grad, g)


def test_errors_without_a_reference_or_a_batch_norm():
    torch.manual_seed(0)
    D = DCGANDiscriminator(28, 1, width=4)
    convert_batchnorm(D)
    with pytest.raises(RuntimeError, match="no reference statistics"):
        D(torch.randn(2, 1, 28, 28))
    with pytest.raises(ValueError, match="no VirtualBatchNorm layer"):
        ReferenceBatch(nn.Linear(2, 1))
    cfg = load_config("ns-fashion-mnist", ["model.arch=mlp", "gan.virtual_batchnorm=true"])
    msg = r"^gan.virtual_batchnorm: D has no batch norm layer to convert \(model.arch=mlp\)$"
    with pytest.raises(UserError, match=msg):
        TRICKS["virtual_batchnorm"].from_config(cfg, None, None, nn.Linear(2, 1), torch.device("cpu"))


def test_the_switch_builds_the_trick_alone_and_the_reference_is_the_first_batch_it_sees():
    torch.manual_seed(0)
    D = DCGANDiscriminator(28, 1, width=4)
    cfg = load_config("ns-fashion-mnist", ["gan.virtual_batchnorm=true"])
    t = Tricks.from_config(cfg, LOSSES[cfg.gan.loss], nn.Identity(), D, torch.device("cpu"))
    assert list(t.active) == ["virtual_batchnorm"] and isinstance(D.features[3], VirtualBatchNorm)
    assert t.state_dict() == {"virtual_batchnorm": {}}
    first, second = torch.randn(4, 1, 28, 28), torch.randn(4, 1, 28, 28)
    assert t.d_input(first) is first and t.d_input(second) is second
    assert torch.equal(t.state_dict()["virtual_batchnorm"]["reference"], first)
    off = load_config("ns-fashion-mnist", [])
    assert TRICKS["virtual_batchnorm"].from_config(off, None, None, D, torch.device("cpu")) is None


def _rows(run_dir) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv", newline="") as f:
        return [{k: v for k, v in r.items() if k != "images_per_s"} for r in csv.DictReader(f)]  # all but the timing


def test_a_gan_run_with_virtual_batchnorm_trains_and_resumes_exactly(tmp_path, small_data, tiny_overrides):
    over = tiny_overrides + ["gan.virtual_batchnorm=true", "model.z_dim=8", "train.steps=6", "train.num_samples=4"]
    full = gankit.train(load_config("ns-fashion-mnist", over), tmp_path / "full", progress=False)
    assert full.step == 6
    part = train_run(load_config("ns-fashion-mnist", over), tmp_path / "part", progress=False, stop_at=3)
    assert part.interrupted
    gankit.resume(tmp_path / "part", progress=False)
    assert _rows(tmp_path / "part") == _rows(tmp_path / "full")
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(tmp_path / "part")
    assert not any("running" in k for k in a.module_state("D"))  # D's batch norm is virtual: no running statistics
    for k in a.weights:
        assert torch.equal(a.weights[k], b.weights[k]), k
    ref = a.state["method"]["tricks"]["virtual_batchnorm"]["reference"]
    assert ref.shape == (16, 1, 28, 28)  # the first real batch (train.batch_size=16)
    assert torch.equal(ref, b.state["method"]["tricks"]["virtual_batchnorm"]["reference"])
    assert all(float(r["d_loss"]) == float(r["d_loss"]) for r in _rows(tmp_path / "full"))  # finite, not NaN
