"""The next-frame method (Mathieu et al. 2016) on small synthetic Moving-MNIST-style data: it learns, it scores
per horizon without touching the training RNG, it draws several futures, and bad configs are one-line errors."""

import numpy as np
import pytest
import torch

from gankit.config import apply_overrides, validate
from gankit.data import DataSpec, TensorData
from gankit.data.moving import moving_sequences
from gankit.errors import UserError
from gankit.images import from_uint8
from gankit.methods import build_method
from gankit.methods.nextframe import horizon_scores
from gankit.previews import save_preview
from gankit.train.context import TrainContext

SPEC = DataSpec((6, 1, 32, 32), "video")
TINY = ["nextframe.width=8", "nextframe.depth=2", "nextframe.d_width=4", "nextframe.context=2", "nextframe.horizon=3",
        "nextframe.val_size=8", "nextframe.eval_batch=4", "train.batch_size=8"]  # fmt: skip


def squares(n: int = 64, seed: int = 0) -> TensorData:
    """n sequences of 6 frames of one bright 8x8 square bouncing in a 32x32 canvas, in [-1, 1]."""
    seqs = moving_sequences(np.full((1, 8, 8), 255, np.uint8), n, num_frames=6, num_digits=1, canvas=32, seed=seed)
    return TensorData(from_uint8(seqs.reshape(-1, 32, 32)).reshape(n, 6, 1, 32, 32), name="squares")


def method(*overrides: str, spec: DataSpec = SPEC):
    cfg = validate(apply_overrides({"method": "nextframe"}, TINY + list(overrides)), "test")
    return build_method(cfg, spec, torch.device("cpu"))


def trained(steps: int, *overrides: str):
    torch.manual_seed(0)
    m = method(*overrides)
    m.setup(TrainContext.for_data(squares(), batch_size=8))
    return m, [m.step() for _ in range(steps)]


def test_a_short_run_learns_to_predict():
    # Predicting the background everywhere costs the square's share of the pixels times (1 - (-1))^2: MSE 0.25,
    # PSNR 12.0 dB. 80 steps of MSE + GDL + adversarial must do far better than that.
    blank = ((squares().x + 1) ** 2).mean()
    m, logs = trained(80, "nextframe.adv_weight=0.05", "nextframe.gdl_weight=1")
    l2 = torch.stack([s["l2"] for s in logs])
    assert l2[-20:].mean() < 0.6 * blank < l2[:10].mean(), l2
    assert set(logs[0]) == {"g_loss", "l2", "gdl", "d_loss", "g_adv"}
    assert m.evaluate()["psnr_t1"] > 10 * torch.log10(4 / blank) + 2.0


def test_the_window_is_k_plus_1_consecutive_frames():
    m = method()
    seq = torch.arange(6.0).view(1, 6, 1, 1, 1).expand(5, 6, 1, 2, 2)  # frame t holds the value t
    torch.manual_seed(0)
    context, y = m.window(seq)
    assert context.shape == (5, 2, 2, 2) and y.shape == (5, 1, 1, 2, 2)
    torch.testing.assert_close(context[:, 1] + 1, y[:, 0, 0])
    torch.testing.assert_close(context[:, 0] + 2, y[:, 0, 0])
    context, y = m.window(seq, steps=4)  # k + 4 = all 6 frames: the window must start at frame 0
    torch.testing.assert_close(context[:, 0], torch.zeros(5, 2, 2))
    torch.testing.assert_close(y[:, :, 0], torch.arange(2.0, 6.0).view(1, 4, 1, 1).expand(5, 4, 2, 2))


def test_rollout_training_feeds_the_prediction_back_and_scores_every_step():
    m, _ = trained(1, "nextframe.rollout=2", "nextframe.z_channels=0", "nextframe.adv_weight=0.05")
    calls, g, d = [], m.G_train, m.D_train
    m.G_train = lambda x, z: calls.append((x, g(x, z))) or calls[-1][1]
    judged = []
    m.D_train = lambda seq: judged.append(seq) or d(seq)
    m.step()
    assert len(calls) == 2  # t+1 from the true context, t+2 from [last true frame, t+1's prediction]
    (x1, y1), (x2, _) = calls
    torch.testing.assert_close(x2[:, 0], x1[:, 1])
    torch.testing.assert_close(x2[:, 1], y1[:, 0].detach().clamp(-1, 1))
    assert judged[0].shape[0] == 2 * 2 * 8  # D's pass: real and fake of both steps of the 8 sequences


def test_a_d_that_judges_the_whole_rollout_sees_the_context_then_every_prediction():
    m, _ = trained(1, "nextframe.rollout=2", "nextframe.z_channels=0", "nextframe.adv_weight=0.05",
                   "nextframe.d_judges=rollout")  # fmt: skip
    calls, g, d = [], m.G_train, m.D_train
    m.G_train = lambda x, z: calls.append((x, g(x, z))) or calls[-1][1]
    judged = []
    m.D_train = lambda seq: judged.append(seq) or d(seq)
    m.step()
    (x1, y1), (_, y2) = calls
    real, fake = judged[0][:8], judged[0][8:]  # D's pass: the 8 true windows, then the 8 rollouts
    assert judged[0].shape == (16, 2 + 2, 32, 32)  # k = 2 context frames + R = 2 frames, one channel each
    torch.testing.assert_close(fake[:, :2], x1)  # the true context ...
    torch.testing.assert_close(fake[:, 2:], torch.cat([y1, y2], 1).detach())  # ... then both predictions
    torch.testing.assert_close(real[:, :2], x1)
    assert not torch.equal(real[:, 2:], fake[:, 2:])


def test_evaluate_scores_each_horizon_and_leaves_the_training_rng_alone():
    m, _ = trained(2, "nextframe.dropout=0.3")
    state = torch.get_rng_state()
    a, b = m.evaluate(), m.evaluate()
    torch.testing.assert_close(torch.get_rng_state(), state)
    assert a == b  # seeded noise and dropout
    assert {f"{k}_t{h}" for k in ("psnr", "ssim", "sharpness") for h in (1, 2, 3)} <= set(a)
    assert a["psnr"] == pytest.approx((a["psnr_t1"] + a["psnr_t2"] + a["psnr_t3"]) / 3)


def test_several_futures_from_one_context():
    m, _ = trained(2)
    seqs = squares(4, seed=1).x
    one, again, other = m.rollout(seqs, 3, seed=0), m.rollout(seqs, 3, seed=0), m.rollout(seqs, 3, seed=1)
    assert one.shape == (4, 3, 1, 32, 32) and one.abs().max() <= 1
    torch.testing.assert_close(one, again)
    assert not torch.allclose(one, other)


def test_an_ema_of_g_averages_the_weights_and_predicts_in_g_place():
    torch.manual_seed(0)
    m = method("nextframe.ema_decay=0.5", "nextframe.adv_weight=0.05")
    assert set(m.modules) == {"G", "G_ema", "D"}
    before = [p.detach().clone() for p in m.G.parameters()]
    m.setup(TrainContext.for_data(squares(), batch_size=8))
    m.step()  # the first update's decay is the warm-up's min(0.5, 1/10) = 0.1
    for p_ema, p, p0 in zip(m.G_ema.parameters(), m.G.parameters(), before):
        torch.testing.assert_close(p_ema, 0.1 * p0 + 0.9 * p)
    assert m.state_dict() == {"ema_steps": 1}
    seqs = squares(4, seed=1).x
    pred = m.rollout(seqs, 3)
    with torch.no_grad():
        for p in m.G.parameters():
            p.add_(1.0)  # G moves on; predictions come from G_ema alone
    torch.testing.assert_close(m.rollout(seqs, 3), pred)
    m.load_state_dict({"ema_steps": 7})
    assert m.ema_steps == 7


def test_horizon_scores_of_a_perfect_and_a_blank_prediction():
    truth = squares(4).x[:, 2:5]
    perfect = horizon_scores(truth, truth)
    assert perfect["psnr"][0] == float("inf") and perfect["ssim"][0] == pytest.approx(1.0)
    blank = horizon_scores(-torch.ones_like(truth), truth)  # the background everywhere: no edges at all
    assert len(blank["sharpness"]) == 3 and all(s < 30 for s in blank["sharpness"])
    assert perfect["hf_ratio"] == pytest.approx([1.0] * 3) and blank["hf_ratio"] == [0.0] * 3
    faded = horizon_scores(truth * 0.5 - 0.5, truth)  # the ink at half contrast: a quarter of the energy
    assert faded["hf_ratio"] == pytest.approx([0.25] * 3)


def test_preview_is_a_frame_strip(tmp_path):
    m, _ = trained(1)
    p = m.preview()
    assert p.kind == "frames" and p.data.shape == (8, 5, 1, 32, 32) and p.split == 2  # 4 x (truth, prediction)
    assert save_preview(p, tmp_path / "p.png").is_file()


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["nextframe.lp_weight=0"], "all 0"),
        (["nextframe.loss=began"], "unusable adversarial loss 'began'"),
        (["nextframe.d_scales=[3]"], "powers of two"),
        (["nextframe.dropout=1.5"], "nextframe.dropout"),
    ],
)
def test_bad_config_values_are_one_line_errors(overrides, message):
    with pytest.raises(UserError, match=message) as e:
        method(*overrides)
    assert "\n" not in str(e.value)


def test_data_that_does_not_fit_is_a_user_error():
    with pytest.raises(UserError, match="predicts frames of videos"):
        method(spec=DataSpec((1, 28, 28)))
    with pytest.raises(UserError, match="exceeds the 6 frames"):
        method("nextframe.horizon=5")
    with pytest.raises(UserError, match="nextframe.rollout=5 exceeds the 6 frames"):
        method("nextframe.rollout=5")
    with pytest.raises(UserError, match="divisible by"):
        method("nextframe.depth=6")
    with pytest.raises(UserError, match="val_size=100"):
        method("nextframe.val_size=100").setup(TrainContext.for_data(squares(), batch_size=8))


def test_test_scores_reads_the_test_split_of_a_run(tmp_path, monkeypatch):
    import sys

    import gankit.next_frame
    from gankit.data import RunData
    from gankit.train import train_run

    # Small synthetic splits in place of Moving MNIST's (the loader is tested in tests/data/test_moving.py).
    monkeypatch.setattr(sys.modules["gankit.train.loop"], "load_run_data", lambda cfg: RunData({"train": squares()}))
    monkeypatch.setattr(gankit.next_frame, "load_dataset", lambda *a, **k: squares(12, seed=5))
    cfg = validate(apply_overrides({"method": "nextframe"}, TINY + ["train.steps=2", "data.name=moving-mnist"]))
    train_run(cfg, tmp_path / "run", progress=False)
    scores = gankit.next_frame.test_scores(tmp_path / "run")
    assert scores["horizons"] == 3 and scores["sequences"] == 12 and scores["step"] == 2
    assert len(scores["psnr"]) == len(scores["ssim"]) == len(scores["sharpness"]) == 3
    with pytest.raises(UserError, match="horizon=5"):
        gankit.next_frame.test_scores(tmp_path / "run", horizon=5)
