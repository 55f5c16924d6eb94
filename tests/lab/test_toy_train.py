"""A toy dataset trains through `gankit train` (train_run) like any dataset, remedies included."""

import gankit


def test_train_run_on_ring_with_packing(tmp_path):
    cfg = gankit.load_config("gan-mlp-ring", ["train.steps=4", "train.sample_every=2", "train.checkpoint_every=4", "train.log_every=2", "gan.pack=4", "model.minibatch_kernels=4"])
    result = gankit.train(cfg, tmp_path / "run", progress=False)
    assert result.step == 4
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir()) == ["step_00000002.png", "step_00000004.png"]
    method, _ = gankit.load_generator(tmp_path / "run")  # the packed D with minibatch features reloads
    assert method.sample(method.noise(5)).shape == (5, 2)
