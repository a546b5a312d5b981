"""Local fusion, its noise and its losses (torch only)."""
import pytest
import torch
import torch.nn.functional as F

from metagan_mm.core.fusion import (FusionLosses, d_loss, g_loss, local_fusion,
                                    local_reconstruction_loss, sample_fusion)


def naive_fusion(feat, base, coef, positions):
    """One fusion, written position by position."""
    k, c, h, w = feat.shape
    flat = feat.reshape(k, c, h * w)
    out = flat[base].clone()
    matches = []
    for j in [j for j in range(k) if j != base]:
        sim = F.normalize(flat[base], dim=0).T @ F.normalize(flat[j], dim=0)
        matches.append(sim.argmax(1))
    for i, p in enumerate(positions.tolist()):
        v = coef[base] * flat[base][:, p]
        for n, j in enumerate(jj for jj in range(k) if jj != base):
            v = v + coef[j] * flat[j][:, matches[n][p]]
        out[:, p] = v
    return out.reshape(c, h, w)


def test_sample_fusion_shapes_sums_and_repeatability():
    gen = torch.Generator().manual_seed(3)
    noise = sample_fusion(5, 4, 64, 32, gen)
    assert noise.base.shape == (5, ) and noise.base.max() < 4
    torch.testing.assert_close(noise.coefficients.sum(1), torch.ones(5))
    assert (noise.coefficients >= 0).all()
    assert noise.positions.shape == (5, 32)
    assert all(len(set(p.tolist())) == 32 for p in noise.positions)
    again = sample_fusion(5, 4, 64, 32, torch.Generator().manual_seed(3))
    for a, b in zip(noise, again):
        assert torch.equal(a, b)
    one = sample_fusion(2, 1, 64, 32)
    assert one.base.tolist() == [0, 0]
    torch.testing.assert_close(one.coefficients, torch.ones(2, 1))
    with pytest.raises(ValueError, match='k_shot=0'):
        sample_fusion(1, 0, 64, 8)
    with pytest.raises(ValueError, match='num_fused=65'):
        sample_fusion(1, 2, 64, 65)


@pytest.mark.parametrize('k', [2, 3, 5])
def test_local_fusion_equals_position_by_position(k):
    torch.manual_seed(0)
    feat = torch.randn(3, k, 6, 4, 4)
    noise = sample_fusion(3, k, 16, 7, torch.Generator().manual_seed(1))
    fused, matches = local_fusion(feat, noise)
    assert matches.shape == (3, k - 1, 7)
    for b in range(3):
        want = naive_fusion(feat[b], int(noise.base[b]), noise.coefficients[b],
                            noise.positions[b])
        torch.testing.assert_close(fused[b], want)
    # positions that are not fused keep the base map
    b0 = int(noise.base[0])
    keep = torch.ones(16, dtype=torch.bool)
    keep[noise.positions[0]] = False
    torch.testing.assert_close(fused[0].flatten(1)[:, keep],
                               feat[0, b0].flatten(1)[:, keep])


def test_local_fusion_with_one_shot_is_the_shot():
    feat = torch.randn(2, 1, 3, 4, 4)
    fused, matches = local_fusion(feat, sample_fusion(2, 1, 16, 8))
    torch.testing.assert_close(fused, feat[:, 0])
    assert matches.shape == (2, 0, 8)


def test_local_reconstruction_loss_is_l1_to_the_fused_pixels():
    torch.manual_seed(0)
    shots = torch.rand(2, 3, 1, 8, 8)
    noise = sample_fusion(2, 3, 16, 5, torch.Generator().manual_seed(2))
    small = F.interpolate(shots.flatten(0, 1), size=4).reshape(2, 3, 1, 4, 4)
    _, matches = local_fusion(torch.randn(2, 3, 2, 4, 4), noise)
    target = torch.stack(
        [naive_fusion_with(small[b], noise, b, matches[b]) for b in range(2)])
    fake = F.interpolate(target, scale_factor=2)  # nearest: exact target
    torch.testing.assert_close(
        local_reconstruction_loss(shots, fake, noise, matches, 4),
        torch.tensor(0.0))
    loss = local_reconstruction_loss(shots, fake + 0.25, noise, matches, 4)
    torch.testing.assert_close(loss, torch.tensor(0.25))


def naive_fusion_with(x, noise, b, matches):
    """Pixels of one task fused with given matches."""
    k, c, h, w = x.shape
    base = int(noise.base[b])
    flat = x.reshape(k, c, h * w)
    out = flat[base].clone()
    others = [j for j in range(k) if j != base]
    for i, p in enumerate(noise.positions[b].tolist()):
        v = noise.coefficients[b, base] * flat[base][:, p]
        for n, j in enumerate(others):
            v = v + noise.coefficients[b, j] * flat[j][:, matches[n, i]]
        out[:, p] = v
    return out.reshape(c, h, w)


def test_losses_terms_and_unseen_class_weights():
    torch.manual_seed(0)
    lin = torch.nn.Linear(4, 3)

    def disc(x):
        out = lin(x.flatten(1))
        return out[:, :1], out

    real, fake = torch.randn(4, 1, 2, 2), torch.randn(2, 1, 2, 2)
    labels = torch.tensor([0, 1, 2, 0])
    w = FusionLosses(adv=1, cls=1, recon=0.5, r1=0.1)
    total, terms = d_loss(disc, real, labels, fake, w)
    adv_real, cls_real = disc(real)
    want_r1 = 0.1 * (lin.weight[labels]**2).sum(1).mean()
    torch.testing.assert_close(terms['d_r1'], want_r1.detach())
    torch.testing.assert_close(terms['d_cls'],
                               F.cross_entropy(cls_real, labels).detach())
    torch.testing.assert_close(total.detach(), sum(terms.values()))
    total.backward()
    assert lin.weight.grad.abs().sum() > 0
    # unseen class: no class term, no R1 on the class logit
    unseen = FusionLosses(cls=0.0)
    _, terms = d_loss(disc, real, None, fake, unseen)
    assert sorted(terms) == ['d_adv_fake', 'd_adv_real']
    _, terms = g_loss(disc, fake, None, torch.tensor(2.0), unseen)
    assert sorted(terms) == ['g_adv', 'g_recon']
    torch.testing.assert_close(terms['g_recon'], torch.tensor(1.0))


def fusion_loop(mode, steps=1, **objective):
    from metagan_mm.architectures import (ClassHeadResNetDiscriminator,
                                          LocalFusionGenerator)
    from metagan_mm.core import InnerLoop, InnerLoopConfig
    from metagan_mm.core.fusion import FusionObjective
    torch.manual_seed(0)
    cfg = InnerLoopConfig.from_dict(
        dict(
            steps=steps,
            g_lr=1e-3,
            d_lr=1e-3,
            loss='hinge',
            batching=dict(mode=mode, chunk=None)))
    return InnerLoop(
        LocalFusionGenerator(32, 1, base_channels=2),
        ClassHeadResNetDiscriminator(32, 1, 5, base_channels=2),
        cfg,
        objective=FusionObjective(**dict(dict(r1=0.1), **objective)))


MODE_SEEKING = dict(mode_seeking=1.0, fusions=2)


@pytest.mark.parametrize(
    'algorithm, objective',
    [(dict(type='Pooled'), {}), (dict(type='Pooled'), MODE_SEEKING),
     (dict(type='Reptile'), {}),
     (dict(type='MAML', num_support=2, first_order=True), {}),
     (dict(type='MAML', num_support=2, first_order=False), {}),
     (dict(type='MAML', num_support=2, first_order=False), MODE_SEEKING),
     (dict(type='MetaSGD', num_support=2, first_order=False), {})],
    ids=[
        'pooled', 'pooled-mode-seeking', 'reptile', 'maml-fo', 'maml-so',
        'maml-so-mode-seeking', 'meta-sgd'
    ])
def test_fusion_objective_vmapped_equals_looped(algorithm, objective):
    """Plain fusion (Pooled) and every meta-learner on the fusion nets
    (with LoFGAN's loss, or with the mode-seeking term): a vmapped
    meta-batch gives the looped one's gradients."""
    from metagan_mm.core import (Task, build_algorithm, draw_randomness,
                                 meta_gradients)
    tasks = Task(torch.rand(3, 3, 1, 32, 32) * 2 - 1, torch.tensor([0, 4, 2]))
    results = []
    for mode in ('vmap', 'loop'):
        inner = fusion_loop(mode, **objective)
        alg = build_algorithm(dict(algorithm), inner)
        rand = draw_randomness(alg, inner, 3, 3,
                               torch.Generator().manual_seed(1))
        results.append(meta_gradients(alg, inner, tasks, rand))
    vmapped, looped = results
    assert vmapped.batched and not looped.batched
    assert vmapped.num_valid == 3
    for module, grads in looped.grads.items():
        assert any(g.abs().max() > 0 for g in grads.values()), module
        for k, g in grads.items():
            torch.testing.assert_close(
                vmapped.grads[module][k], g, atol=1e-5, rtol=1e-4)


def test_maml_can_adapt_without_the_label_as_at_test_time():
    """``adapt_without_label``: the inner loop sees the support set as an
    unseen class (no class terms); the outer losses keep the label."""
    from metagan_mm.core import Task, build_algorithm
    inner = fusion_loop('loop')
    task = Task(torch.rand(3, 1, 32, 32) * 2 - 1, torch.tensor(4))
    outputs = {}
    for flag in (False, True):
        alg = build_algorithm(
            dict(
                type='MAML',
                num_support=2,
                first_order=True,
                adapt_without_label=flag), inner)
        rand = alg.randomness(inner, 3, torch.Generator().manual_seed(0))
        outputs[flag] = alg.task(inner, task, rand).losses, rand
    (labelled, _), (unlabelled, rand) = outputs[False], outputs[True]
    support = Task(task.images[:2])
    expected = inner.adapt(support, rand['inner'])
    torch.testing.assert_close(unlabelled.inner_d, expected.d_losses)
    torch.testing.assert_close(unlabelled.inner_g, expected.g_losses)
    assert not torch.allclose(labelled.inner_d, unlabelled.inner_d)
    # the outer D loss still has its class term: with the label it is
    # larger than the hinge terms alone
    nets = inner.nets(expected.params, expected.buffers)
    no_label = inner.objective.d_loss(
        nets,
        real=task.images[2:],
        shots=support.images,
        label=None,
        rand=rand['outer']['d'])
    assert unlabelled.outer_d > no_label


def test_mode_seeking_term_is_msgan_over_fusion_coefficients():
    """G's loss with ``mode_seeking=w`` is the loss without it plus
    ``w / (mean |x1 - x2| / mean |a1 - a2| + 1e-5)`` over consecutive
    fusions of the same shots (coefficients ``a``)."""
    from dataclasses import replace

    from metagan_mm.core.fusion import FusionObjective, fusion_noise
    from metagan_mm.core.params import meta_buffers, meta_params
    with pytest.raises(ValueError, match='set model.objective.fusions=2'):
        FusionObjective(mode_seeking=1.0)
    inner = fusion_loop('loop')
    with_ms = FusionObjective(r1=0.1, mode_seeking=0.5, fusions=3)
    modules = inner.modules
    params = {k: meta_params(m) for k, m in modules.items()}
    nets = inner.nets(params, {k: meta_buffers(m) for k, m in modules.items()})
    shots = torch.rand(4, 1, 32, 32) * 2 - 1
    rand = with_ms.sample(
        modules,
        num=1,
        d_shape=(),
        g_shape=(),
        generator=torch.Generator().manual_seed(0))['g']
    kw = dict(real=shots, shots=shots, label=torch.tensor(1), rand=rand)
    total = with_ms.g_loss(nets, **kw)
    plain = replace(with_ms, mode_seeking=0.0).g_loss(nets, **kw)
    noise = fusion_noise(rand, 4)
    fake, _ = modules['generator'](shots[None].expand(3, -1, -1, -1, -1),
                                   noise)
    ratio = ((fake[1:] - fake[:-1]).abs().mean() /
             (noise.coefficients[1:] - noise.coefficients[:-1]).abs().mean())
    torch.testing.assert_close(total, plain + 0.5 / (ratio + 1e-5))
    assert 0.5 / (ratio + 1e-5) > 1e-3
