"""Each adversarial loss against hand-computed values, and the sign of G's gradient.

"Toward real" means larger logits for every loss except BEGAN, whose D outputs a reconstruction
error (smaller is more real). G's loss must fall as D's output on fakes moves that way, i.e.
dJ_G/dt has the sign -1 (+1 for BEGAN's error), and equals its closed form.
"""

import math

import pytest
import torch
from torch.testing import assert_close

from gankit.losses import LOSSES
from gankit.losses.began import BEGANControl, began_update
from gankit.losses.wgan import wasserstein_estimate

sp = lambda v: math.log1p(math.exp(v))  # softplus  # noqa: E731
T = lambda *v: torch.tensor(v, dtype=torch.float64)  # noqa: E731


def test_bce_hand_values():
    """J_D = mean softplus(-real) + mean softplus(fake); smoothing t: t softplus(-l) + (1-t) softplus(l)."""
    L = LOSSES["non-saturating"]
    assert_close(L.d(T(0.0, 2.0), T(-1.0)), T((math.log(2) + sp(-2)) / 2 + sp(-1))[0])
    assert_close(L.d(T(1.0), T(0.0), real_label=0.9), T(0.9 * sp(-1) + 0.1 * sp(1) + math.log(2))[0])
    assert_close(L.g(T(0.0, 1.0)), T((math.log(2) + sp(-1)) / 2)[0])
    assert_close(LOSSES["minimax"].g(T(0.0, 1.0)), T(-(math.log(2) + sp(1)) / 2)[0])


def test_lsgan_hand_values():
    """J_D = 1/2 mean (real - 1)^2 + 1/2 mean fake^2; J_G = 1/2 mean (fake - 1)^2."""
    L = LOSSES["lsgan"]
    assert_close(L.d(T(1.0, 3.0), T(0.5)), T(0.5 * (0 + 4) / 2 + 0.5 * 0.25)[0])
    assert_close(L.d(T(1.0), T(0.0), real_label=0.9), T(0.5 * 0.01)[0])
    assert_close(L.g(T(0.5, -1.0)), T(0.5 * (0.25 + 4) / 2)[0])


def test_wgan_hand_values():
    L = LOSSES["wgan"]
    assert_close(L.d(T(1.0, 3.0), T(0.5, -1.5)), T(-0.5 - 2.0)[0])
    assert_close(L.g(T(0.5, -1.5)), T(0.5)[0])
    assert_close(wasserstein_estimate(T(1.0, 3.0), T(0.5, -1.5)), T(2.5)[0])


def test_hinge_hand_values():
    L = LOSSES["hinge"]
    assert_close(L.d(T(0.5, 2.0), T(-2.0, 0.0)), T((0.5 + 0) / 2 + (0 + 1) / 2)[0])
    assert_close(L.d(T(0.0), T(0.0)), T(2.0)[0])  # the style guide's closed form
    assert_close(L.g(T(-2.0, 0.0)), T(1.0)[0])


def test_relativistic_hand_values():
    """real (1, 3), fake (0, 2): C(x_r) - E C(x_f) = (0, 2), C(x_f) - E C(x_r) = (-2, 0)."""
    L = LOSSES["relativistic-average"]
    real, fake = T(1.0, 3.0), T(0.0, 2.0)
    assert_close(L.d(real, fake), T((sp(0) + sp(-2)) / 2 + (sp(-2) + sp(0)) / 2)[0])
    assert_close(L.g(fake, real), T((sp(2) + sp(0)) / 2 + (sp(0) + sp(2)) / 2)[0])
    assert_close(L.d(T(0.0), T(0.0)), T(2 * math.log(2))[0])


def test_began_hand_values_and_control():
    L = LOSSES["began"]
    real, fake = T(0.2, 0.4), T(0.1, 0.3)
    assert_close(L.d(real, fake, k=0.5), T(0.3 - 0.5 * 0.2)[0])
    assert_close(L.g(fake), T(0.2)[0])
    k, m = began_update(T(0.5)[0], real, fake, gamma=0.5, lambda_k=1e-3)
    assert_close(k, T(0.5 + 1e-3 * (0.5 * 0.3 - 0.2))[0])  # k + lambda_k (gamma L(x) - L(G(z)))
    assert_close(m, T(0.3 + abs(0.5 * 0.3 - 0.2))[0])  # L(x) + |gamma L(x) - L(G(z))|
    assert began_update(T(0.0)[0], real, fake, 0.5, 1.0)[0].item() == 0.0  # clipped below at 0
    assert began_update(T(1.0)[0], real, T(0.0, 0.0), 0.5, 100.0)[0].item() == 1.0  # and above at 1


def test_began_control_holds_k_from_zero():
    """BEGANControl is began_update with state: k_0 = 0, k passed to d_began, and saved/restored."""
    assert LOSSES["began"].control is BEGANControl
    assert all(L.control is None for name, L in LOSSES.items() if name != "began")
    c = BEGANControl(gamma=0.5, lambda_k=1e-3)
    assert c.d_loss_kwargs()["k"].item() == 0.0
    real, fake = torch.tensor([0.2, 0.4]), torch.tensor([0.1, 0.3])
    stats = c.update(real, fake)
    k1, m = began_update(torch.zeros(()), real, fake, 0.5, 1e-3)
    assert_close(stats["began_k"], k1)
    assert_close(stats["began_m_global"], m)
    assert_close(c.d_loss_kwargs()["k"], k1)
    stats["began_k"] += 1.0  # the logged k is a copy: logging cannot move the control
    assert_close(c.k, k1)
    d = BEGANControl()
    d.load_state_dict(c.state_dict())
    assert torch.equal(d.k, c.k)


# dJ_G / d fake_i for fakes t = (-1, 0.5), reals (0.3, 1.1), N = 2: closed forms.
sig = torch.sigmoid
GRADS = {
    "minimax": lambda t, r: -sig(t) / 2,
    "non-saturating": lambda t, r: -sig(-t) / 2,
    "lsgan": lambda t, r: (t - 1) / 2,
    "wgan": lambda t, r: torch.full_like(t, -0.5),
    "hinge": lambda t, r: torch.full_like(t, -0.5),
    # d/dt_i [mean softplus(-(t - mean r)) + mean softplus(r - mean t)]
    "relativistic-average": lambda t, r: -sig(-(t - r.mean())) / 2 - sig(r - t.mean()).mean() / 2,
    "began": lambda t, r: torch.full_like(t, 0.5),  # an error: G's loss falls as it shrinks
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_g_loss_falls_as_fakes_move_toward_real(name):
    assert set(GRADS) == set(LOSSES), "every registered loss needs a gradient test"
    fake = T(-1.0, 0.5).requires_grad_(True)
    real = T(0.3, 1.1)
    LOSSES[name].g(fake, real).backward()
    assert_close(fake.grad, GRADS[name](fake.detach(), real))
    toward_real = -1.0 if name != "began" else 1.0
    assert torch.equal(torch.sign(fake.grad), torch.full_like(fake.grad, toward_real))
