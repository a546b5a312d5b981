"""FAML's losses: hand-computed values, FAML's BCE form, vmap."""
import math

import pytest
import torch
import torch.nn.functional as F

from metagan_mm.core.faml_losses import (l1_reconstruction_loss,
                                         mode_seeking_loss, mode_seeking_ratio,
                                         ragan_d_loss, ragan_g_loss)


def softplus(x):
    return math.log1p(math.exp(x))


REAL = torch.tensor([[1.0], [3.0]])  # mean 2
FAKE = torch.tensor([[0.0], [-1.0]])  # mean -0.5


def test_ragan_hand_values():
    # r - mean f = [1.5, 3.5]; f - mean r = [-2, -3]
    d_want = (softplus(-1.5) + softplus(-3.5) + softplus(-2.0) +
              softplus(-3.0)) / 4
    g_want = (softplus(1.5) + softplus(3.5) + softplus(2.0) +
              softplus(3.0)) / 4
    assert d_want == pytest.approx(0.1016700, abs=1e-6)
    assert g_want == pytest.approx(2.6016700, abs=1e-6)
    assert float(ragan_d_loss(REAL, FAKE)) == pytest.approx(d_want, abs=1e-6)
    assert float(ragan_g_loss(REAL, FAKE)) == pytest.approx(g_want, abs=1e-6)
    # [N] and [N, 1] logits give the same
    assert float(ragan_d_loss(REAL.view(-1), FAKE.view(-1))) == \
        pytest.approx(d_want, abs=1e-6)


def test_ragan_equals_faml_bce_form():
    torch.manual_seed(0)
    r, f = torch.randn(4), torch.randn(4)
    bce = F.binary_cross_entropy_with_logits
    one, zero = torch.ones(4), torch.zeros(4)
    d_faml = (bce(r - f.mean(), one) + bce(f - r.mean(), zero)) / 2
    g_faml = (bce(r - f.mean(), zero) + bce(f - r.mean(), one)) / 2
    assert torch.allclose(ragan_d_loss(r, f), d_faml, atol=1e-6)
    assert torch.allclose(ragan_g_loss(r, f), g_faml, atol=1e-6)


def test_ragan_sign_of_gradients():
    r, f = REAL.clone().requires_grad_(), FAKE.clone().requires_grad_()
    ragan_d_loss(r, f).backward()
    assert (r.grad < 0).all() and (f.grad > 0).all()  # D: raise r, lower f
    r.grad, f.grad = None, None
    ragan_g_loss(r, f).backward()
    assert (f.grad < 0).all()  # G: raise its logits


def test_mode_seeking_hand_values():
    img1 = torch.zeros(2, 1, 1, 2)
    img2 = torch.tensor([1.0, 3.0, 0.0, 0.0]).reshape(2, 1, 1, 2)
    z1, z2 = torch.zeros(2, 3), torch.full((2, 3), 2.0)
    # mean |img2 - img1| = 4 / 4 = 1; mean |z2 - z1| = 2
    assert float(mode_seeking_ratio(img1, img2, z1, z2)) == pytest.approx(0.5)
    assert float(mode_seeking_loss(img1, img2, z1, z2)) == pytest.approx(
        1 / (0.5 + 1e-5), rel=1e-6)
    assert float(mode_seeking_loss(img1, img1, z1, z2)) == pytest.approx(
        1e5, rel=1e-6)  # identical generations: 1 / eps
    assert float(mode_seeking_loss(img1, img2, z1, z2, eps=0.5)) == \
        pytest.approx(1.0)
    with pytest.raises(ValueError, match='shapes differ'):
        mode_seeking_loss(img1, img2[:1], z1, z2)


def test_l1_reconstruction_hand_values_and_faml_sigmoid():
    gen = torch.tensor([-1.0, 0.5, 1.0, 0.0]).reshape(1, 1, 2, 2)
    tgt = torch.tensor([-1.0, 1.0, 1.0, -0.5]).reshape(1, 1, 2, 2)
    assert float(l1_reconstruction_loss(gen, tgt)) == pytest.approx(0.25)
    assert float(l1_reconstruction_loss(tgt, tgt)) == 0.0
    # FAML's L1(x, sigmoid(tanh output)) is far from 0 even for a perfect
    # generation: |-1 - s(-1)| + |1 - s(1)| + ... over the 4 pixels
    faml = (tgt - torch.sigmoid(tgt)).abs().mean()
    want = (abs(-1 - 1 / (1 + math.e)) * 1 +
            abs(1 - 1 / (1 + math.exp(-1))) * 2 + abs(-0.5 - 1 /
                                                      (1 + math.exp(0.5)))) / 4
    assert float(faml) == pytest.approx(want, abs=1e-6)
    assert float(faml) > 0.5
    with pytest.raises(ValueError, match=r'\(1, 1, 2, 2\) vs \(2, 1, 2, 2\)'):
        l1_reconstruction_loss(gen, tgt.expand(2, -1, -1, -1))


def test_losses_vmap_over_tasks_equal_loop():
    torch.manual_seed(1)
    T = 3
    r, f = torch.randn(T, 4, 1), torch.randn(T, 6, 1)
    a, b = torch.randn(T, 4, 1, 2, 2), torch.randn(T, 4, 1, 2, 2)
    z1, z2 = torch.randn(T, 4, 5), torch.randn(T, 4, 5)

    def total(r, f, a, b, z1, z2):
        return (ragan_d_loss(r, f) + ragan_g_loss(r, f) +
                mode_seeking_loss(a, b, z1, z2) + l1_reconstruction_loss(a, b))

    out = torch.func.vmap(total)(r, f, a, b, z1, z2)
    grads = torch.func.vmap(torch.func.grad(total))(r, f, a, b, z1, z2)
    for t in range(T):
        args = (r[t], f[t], a[t], b[t], z1[t], z2[t])
        assert torch.allclose(out[t], total(*args), atol=1e-6)
        assert torch.allclose(
            grads[t], torch.func.grad(total)(*args), atol=1e-6)
