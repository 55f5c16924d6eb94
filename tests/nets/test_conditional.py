"""Conditional G and D (gankit.nets.conditional): shapes for every variant and arch, the concatenated one-hot
input, the projection term against a hand-built case, and AC-GAN's classifier that does not see y."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gankit.methods.gan_config import ModelConfig
from gankit.nets.conditional import (
    D_MODES,
    ACDiscriminator,
    ConcatDiscriminator,
    ProjectionDiscriminator,
    conditional_discriminator,
    conditional_generator,
    feature_split,
)

K = 10


def _model(arch: str, **kw) -> ModelConfig:
    return ModelConfig(arch=arch, z_dim=8, g_width=8, d_width=8, **kw)


@pytest.mark.parametrize("arch", ["dcgan", "mlp", "resnet"])
@pytest.mark.parametrize("mode", D_MODES)
def test_conditional_g_and_d_shapes_on_images(arch, mode):
    torch.manual_seed(0)
    cfg = _model(arch)
    G = conditional_generator(cfg, (1, 28, 28), K, embed_dim=4)
    D = conditional_discriminator(cfg, (1, 28, 28), K, mode)
    y = torch.tensor([0, 3, 9])
    x = G(torch.randn(3, 8), y)
    assert x.shape == (3, 1, 28, 28)
    logits, class_logits = D(x, y)
    assert logits.shape == (3,)
    assert (class_logits is None) == (mode != "acgan")
    if mode == "acgan":
        assert class_logits.shape == (3, K)
    assert cfg.z_dim == 8  # the model config is copied, not changed


@pytest.mark.parametrize("mode", D_MODES)
def test_conditional_mlp_on_vectors(mode):
    cfg = _model("mlp")
    G = conditional_generator(cfg, (2,), 3, embed_dim=4)
    D = conditional_discriminator(cfg, (2,), 3, mode)
    y = torch.tensor([0, 1, 2, 1])
    x = G(torch.randn(4, 8), y)
    assert x.shape == (4, 2)
    assert D(x, y)[0].shape == (4,)
    if mode == "concat":
        assert D.D.net[1].in_features == 2 + 3  # D + K inputs


def test_g_is_built_for_z_plus_embedding_and_depends_on_the_label():
    torch.manual_seed(0)
    G = conditional_generator(_model("dcgan"), (1, 28, 28), K, embed_dim=4).eval()
    assert G.G.net[0].in_channels == 8 + 4  # DCGAN's first layer takes z_dim + embed_dim
    z = torch.randn(1, 8).expand(K, 8)
    x = G(z, torch.arange(K))  # one latent, every class
    assert (x[1:] - x[:1]).abs().amax(dim=(1, 2, 3)).min() > 1e-4  # each class gives another image


def test_concat_d_sees_c_plus_k_channels_of_constant_one_hot_maps():
    seen = {}

    class Record(nn.Module):
        def forward(self, x):
            seen["x"] = x
            return x.sum(dim=(1, 2, 3))

    D = ConcatDiscriminator(Record(), num_classes=3)
    x = torch.randn(2, 1, 4, 4)
    D(x, torch.tensor([2, 0]))
    got = seen["x"]
    assert got.shape == (2, 1 + 3, 4, 4)
    assert_close(got[:, :1], x)
    assert_close(got[0, 1:], torch.tensor([0.0, 0.0, 1.0])[:, None, None].expand(3, 4, 4))
    assert_close(got[1, 1:], torch.tensor([1.0, 0.0, 0.0])[:, None, None].expand(3, 4, 4))
    assert conditional_discriminator(_model("dcgan"), (1, 28, 28), K, "concat").D.features[0].in_channels == 1 + K


class _Linear3(nn.Module):
    """A hand-made D: phi(x) = x (3 features), psi(h) = w . h + b with w = (1, 0, 0), b = 0.5."""

    def __init__(self):
        super().__init__()
        self.features = nn.Identity()
        self.head = nn.Linear(3, 1)
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor([[1.0, 0.0, 0.0]]))
            self.head.bias.fill_(0.5)


def test_projection_logit_is_psi_plus_the_inner_product_of_embedding_and_features():
    D = ProjectionDiscriminator(_Linear3(), num_classes=2, in_shape=(3,))
    with torch.no_grad():
        D.embed.weight.copy_(torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, -1.0]]))
    x = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    logits, _ = D(x, torch.tensor([0, 1]))
    # psi = 1 + 0.5 = 1.5 for both; <V_0, x> = 2, <V_1, x> = 2 - 3 = -1
    assert_close(logits, torch.tensor([3.5, 0.5]))


def test_projection_on_dcgan_features_is_the_flattened_inner_product():
    torch.manual_seed(0)
    D = conditional_discriminator(_model("dcgan"), (1, 28, 28), K, "projection").eval()
    x, y = torch.randn(4, 1, 28, 28), torch.tensor([1, 5, 5, 9])
    h = D.D.features(x)  # [4, 16, 7, 7]
    expected = D.D.head(h).view(-1) + (D.embed.weight[y] * h.flatten(1)).sum(1)
    assert_close(D(x, y)[0], expected)
    assert D.embed.weight.shape == (K, 16 * 7 * 7)


def test_acgan_d_ignores_the_label():
    torch.manual_seed(0)
    D = conditional_discriminator(_model("mlp"), (1, 28, 28), K, "acgan")
    assert isinstance(D, ACDiscriminator)
    x = torch.randn(3, 1, 28, 28)
    a, b = D(x, torch.tensor([0, 1, 2])), D(x, torch.tensor([7, 7, 7]))
    assert_close(a[0], b[0])
    assert_close(a[1], b[1])


def test_a_d_without_features_is_refused_by_the_feature_modes():
    plain = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))  # no .features/.head, no .net
    assert feature_split(plain) is None
    for cls in (ProjectionDiscriminator, ACDiscriminator):
        with pytest.raises(ValueError, match="exposes no feature layer"):
            cls(plain, 2, (4,))


def test_spectral_norm_reaches_the_projection_embedding():
    D = conditional_discriminator(_model("dcgan", spectral_norm=True), (1, 28, 28), K, "projection")
    assert hasattr(D.embed, "parametrizations") and hasattr(D.D.head, "parametrizations")


def test_a_plain_namespace_config_works_too():
    cfg = SimpleNamespace(arch="mlp", z_dim=8, g_width=8, d_width=8, depth=1, data_scale=1.0)
    G = conditional_generator(cfg, (2,), 3, embed_dim=2)
    assert G(torch.randn(5, 8), torch.zeros(5, dtype=torch.long)).shape == (5, 2) and cfg.z_dim == 8


@pytest.mark.parametrize("arch", ["dcgan", "resnet"])
def test_cbn_generator_conditions_every_batch_norm_and_depends_on_the_label(arch):
    torch.manual_seed(0)
    cfg = _model(arch)
    G = conditional_generator(cfg, (1, 28, 28), K, embed_dim=4, mode="batchnorm")
    plain = [m for m in G.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    assert plain and all(not m.affine for m in plain)  # every norm lost its own scale and shift ...
    assert len(G.norms) == len(plain)  # ... to a per-class one
    assert G.G.net[0].in_channels == 8 if arch == "dcgan" else True  # z alone: no embedding concatenated
    G.eval()
    z = torch.randn(1, 8).expand(K, 8)
    x = G(z, torch.arange(K))
    assert x.shape == (K, 1, 28, 28)
    assert (x[1:] - x[:1]).abs().amax(dim=(1, 2, 3)).min() > 1e-4  # each class gives another image
    assert all(norm.e is None for norm in G.norms)  # no embedding left behind for the next call


def test_conditional_batch_norm_scales_and_shifts_by_linear_maps_of_the_embedding():
    from gankit.nets.conditional import ConditionalBatchNorm

    norm = ConditionalBatchNorm(nn.BatchNorm2d(2), embed_dim=3)
    with torch.no_grad():
        norm.gain.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]))  # gamma - 1 = (e0, 2 e1)
        norm.bias.weight.copy_(torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]))  # beta = (e2, -e2)
    h = torch.randn(4, 2, 3, 3)
    norm.e = torch.tensor([[1.0, 1.0, 0.5]]).expand(4, 3)  # gamma = (2, 3), beta = (0.5, -0.5)
    mean, var = h.mean(dim=(0, 2, 3), keepdim=True), h.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    expected = (h - mean) / torch.sqrt(var + 1e-5) * torch.tensor([2.0, 3.0]).view(1, 2, 1, 1)
    expected = expected + torch.tensor([0.5, -0.5]).view(1, 2, 1, 1)
    assert_close(norm(h), expected, atol=1e-5, rtol=1e-5)
    norm.e = None
    with pytest.raises(RuntimeError, match="without a class embedding"):
        norm(h)


def test_cbn_needs_a_generator_with_batch_norm():
    with pytest.raises(ValueError, match="no batch norm"):
        conditional_generator(_model("mlp"), (2,), 3, embed_dim=4, mode="batchnorm")
    with pytest.raises(ValueError, match="unknown conditioning of G"):
        conditional_generator(_model("mlp"), (2,), 3, embed_dim=4, mode="film")
