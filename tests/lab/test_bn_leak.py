"""bn-leak (gankit.lab.bn_leak): with batch norm in training mode D tells all-real from all-fake batches although
every fake sample is a real image; judged one sample at a time it is at chance, and so is every remedy that makes
D's output per-sample. Bounds on the --quick numbers, over two seeds (the full run: docs/lab.md)."""

import json

import pytest
import torch
from torch.testing import assert_close

from gankit.lab import EXPERIMENTS, bn_leak

SEEDS = (0, 1)  # (seed 2 passes too; two keep CI time down)
PER_SAMPLE = ("batchnorm_eval", "virtual_batchnorm", "layernorm", "instancenorm", "no_norm", "spectral_norm")


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory, lab_quick) -> dict[int, tuple[dict, object]]:
    """One --quick run per seed (~15 s each): seed 0 through the registry (it writes result.json), the others
    through ``run``; seed -> (result, output folder)."""
    runs = {}
    for seed in SEEDS:
        out = tmp_path_factory.mktemp(f"bn-leak-{seed}")
        result = lab_quick("bn-leak", out) if seed == 0 else bn_leak.run(out, quick=True, seed=seed)
        runs[seed] = (result, out)
    return runs


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_norm_in_training_mode_leaks_the_batch(quick_runs, seed):
    r, _ = quick_runs[seed]
    assert r["batchnorm_batch_acc"] >= 0.88  # (0.92-0.94 at --quick for these seeds; 0.996 in the full run)
    assert_close(r["batchnorm_single_acc"], 0.5, atol=0.05, rtol=0)  # one sample at a time: chance


@pytest.mark.parametrize("seed", SEEDS)
def test_every_per_sample_remedy_is_at_chance_on_batches_and_on_single_samples(quick_runs, seed):
    r, _ = quick_runs[seed]
    arms = r["arms"]
    assert list(arms) == list(bn_leak.ARMS)
    for name in PER_SAMPLE:
        assert_close(arms[name]["batch_acc"], 0.5, atol=0.05, rtol=0, msg=name)
        assert_close(arms[name]["single_acc"], 0.5, atol=0.05, rtol=0, msg=name)
    assert set(PER_SAMPLE) <= set(r["remedies_at_chance"])
    for name, arm in arms.items():  # eval mode is per-sample for every arm: batched == one at a time
        assert_close(arm["single_vs_batched_gap"], 0.0, atol=1e-5, rtol=0, msg=name)


def test_registry_result_json_and_figures(quick_runs):
    r, out = quick_runs[0]
    assert EXPERIMENTS["bn-leak"].headline == ("batchnorm_batch_acc", "batchnorm_single_acc", "remedies_batch_acc")
    on_disk = json.loads((out / "result.json").read_text())
    assert on_disk["experiment"] == "bn-leak" and on_disk["quick"] is True and on_disk["setup"]["steps"] == 200
    assert on_disk["batchnorm_batch_acc"] == r["batchnorm_batch_acc"]
    assert on_disk["figures"] == ["bn_leak.png", "bn_leak_batches.png"]
    assert all((out / f).stat().st_size > 10_000 for f in on_disk["figures"])
    assert set(r["curves"]) == set(bn_leak.ARMS) - {"batchnorm_eval"}  # the eval-mode arm is the batch-norm D
    assert r["seconds"] > 0  # recorded (its speed is no test: a loaded machine takes minutes; see docs/lab.md)


def test_the_fake_batches_are_one_class_and_single_fakes_follow_the_data():
    """Every batch of the class-hopping G holds images of one class; over calls the classes are uniform, so one
    sample at a time G is p_data (the classes are balanced)."""
    y = torch.arange(10).repeat_interleave(30)  # 10 balanced classes
    x = y.float().view(-1, 1, 1, 1).expand(-1, 1, 28, 28).clone()  # each image's value is its class
    G = bn_leak.ClassHoppingG(x, y, torch.Generator().manual_seed(0))
    batches = [G(torch.zeros(16, 1)) for _ in range(2000)]
    assert all(b.unique().numel() == 1 for b in batches)  # one class per batch
    counts = torch.bincount(torch.stack([b[0, 0, 0, 0] for b in batches]).long(), minlength=10).float()
    assert_close(counts / counts.sum(), torch.full((10,), 0.1), atol=0.025, rtol=0)  # uniform over the classes


@pytest.mark.parametrize("norm", ["virtual", "layer", "instance", "none", "spectral"])
def test_the_remedies_make_d_per_sample_in_training_mode(norm):
    """What the remedies share: D's output for a sample does not depend on the rest of its batch (plain batch
    norm's does)."""
    torch.manual_seed(0)
    D = bn_leak.discriminator(norm)
    if norm == "virtual":
        bn_leak.ReferenceBatch(D, torch.randn(8, 1, 28, 28))
    if norm == "spectral":
        D.eval()  # (no batch norm left: eval mode only stops the power iteration moving sigma between the calls)
    x, others = torch.randn(1, 1, 28, 28), torch.rand(9, 1, 28, 28)
    with torch.no_grad():
        assert_close(D(torch.cat([others, x]))[-1:], D(x), rtol=1e-5, atol=1e-5)
    plain = bn_leak.discriminator("batch")
    with torch.no_grad():
        assert (plain(torch.cat([others, x]))[-1] - plain(torch.cat([x, -others]))[0]).abs() > 1e-3
