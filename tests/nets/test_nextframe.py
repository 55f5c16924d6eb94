"""Shapes of the next-frame predictor and the multi-scale D; dropout stays on at test time."""

import torch

from gankit.nets.nextframe import FramePredictor, MultiScaleD


def test_predictor_shapes_with_and_without_noise():
    ctx = torch.randn(3, 4, 64, 64)  # 4 grey context frames
    g = FramePredictor(context=4, channels=1, width=4, depth=3, z_channels=2)
    assert g.noise_shape(3, 64, 64) == (3, 2, 8, 8)
    assert g(ctx, torch.randn(3, 2, 8, 8)).shape == (3, 1, 64, 64)
    rgb = FramePredictor(context=2, channels=3, width=4, depth=2, z_channels=0)
    assert rgb(torch.randn(2, 6, 32, 32)).shape == (2, 3, 32, 32)


def test_noise_changes_the_prediction_and_dropout_stays_on_in_eval_mode():
    ctx = torch.randn(2, 4, 32, 32)
    g = FramePredictor(4, 1, 4, 2, z_channels=1).eval()
    z = torch.randn(2, 1, 8, 8)
    torch.testing.assert_close(g(ctx, z), g(ctx, z))  # deterministic given z without dropout
    assert not torch.allclose(g(ctx, z), g(ctx, torch.randn(2, 1, 8, 8)))
    d = FramePredictor(4, 1, 4, 2, z_channels=1, dropout=0.5).eval()
    assert not torch.allclose(d(ctx, z), d(ctx, z))


def test_multiscale_d_gives_patch_logits_per_scale():
    d = MultiScaleD(frames=5, channels=1, size=64, width=4, scales=(1, 2, 4))
    outs = d(torch.randn(3, 5, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(3, 1, 8, 8)] * 3
    small = MultiScaleD(frames=3, channels=1, size=32, width=4, scales=(1, 8))
    assert [tuple(o.shape) for o in small(torch.randn(2, 3, 32, 32))] == [(2, 1, 8, 8), (2, 1, 4, 4)]
