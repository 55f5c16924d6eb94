"""SEGAN's networks (Pascual et al. 2017): the paper's shapes, skip connections, pairs into D."""

import torch

from gankit.nets.segan import PAPER_WIDTHS, SEGANDiscriminator, SEGANGenerator


def test_the_paper_sizes_map_16384_samples_to_an_8_x_1024_code_and_back():
    G = SEGANGenerator()
    assert G.code_shape(16384) == (1024, 8) and len(G.enc) == 11 and G.widths == PAPER_WIDTHS
    assert all(m.kernel_size == (31,) and m.stride == (2,) for m in G.enc)
    x = torch.randn(1, 1, 16384) * 0.1
    with torch.no_grad():
        y = G(x)
        score = SEGANDiscriminator()(x, y)
    assert y.shape == x.shape and y.abs().max() < 1 and score.shape == (1,)


def test_skip_connections_carry_the_input_past_the_code():
    """With the code and z zeroed out, the output still depends on the input: only the skips can carry it."""
    torch.manual_seed(0)
    G = SEGANGenerator(widths=(4, 8, 8))
    x = torch.randn(2, 1, 256, requires_grad=True)
    G.enc[-1].register_forward_hook(lambda m, i, out: out * 0)  # the code becomes zero
    y = G(x, torch.zeros(2, 8, 32))
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert grad.abs().sum() > 0


def test_z_changes_the_output_and_d_sees_the_pair():
    torch.manual_seed(0)
    G, D = SEGANGenerator(widths=(4, 8)), SEGANDiscriminator(length=256, widths=(4, 8))
    x = torch.randn(3, 1, 256)
    a, b = G(x, torch.zeros(3, 8, 64)), G(x, torch.ones(3, 8, 64))
    assert not torch.allclose(a, b)
    s_noisy = D(x, a)
    assert s_noisy.shape == (3,) and not torch.allclose(s_noisy, D(torch.zeros_like(x), a))  # the noisy half counts


def test_batch_norm_in_d_stands_after_every_convolution_but_the_first():
    D = SEGANDiscriminator(length=256, widths=(4, 8, 8), batch_norm=True)
    kinds = [type(m).__name__ for m in D.net]
    assert kinds == ["Conv1d", "LeakyReLU", "Conv1d", "BatchNorm1d", "LeakyReLU", "Conv1d", "BatchNorm1d",
                     "LeakyReLU", "Conv1d"]
    assert D(torch.randn(3, 1, 256), torch.randn(3, 1, 256)).shape == (3,)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in SEGANDiscriminator(256, (4, 8)).modules())


def test_a_residual_g_starts_as_the_identity_and_learns_a_correction():
    torch.manual_seed(0)
    G = SEGANGenerator(widths=(4, 8), residual=True)
    noisy = torch.rand(2, 1, 64) * 1.6 - 0.8
    assert torch.equal(G(noisy), noisy)  # the last layer starts at zero: the input comes back unchanged
    opt = torch.optim.Adam(G.parameters(), 1e-2)
    for _ in range(30):  # towards a quieter clip: the correction must become non-zero, and reach it
        opt.zero_grad()
        loss = (G(noisy) - 0.5 * noisy).abs().mean()
        loss.backward()
        opt.step()
    assert (G(noisy) - 0.5 * noisy).abs().mean() < 0.5 * (0.5 * noisy).abs().mean()
    with torch.no_grad():
        G.dec[-1].bias.fill_(5.0)  # a correction far past the waveform's range is clamped to it
        assert float(G(noisy).max()) == 1.0
