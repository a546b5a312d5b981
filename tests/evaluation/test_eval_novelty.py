"""FewShotNovelty on synthetic images with identity (flatten) features."""
import numpy as np
import pytest
import torch
from torch import nn

from metagan_mm.evaluation.metrics import FewShotNovelty
from metagan_mm.evaluation.metrics.fewshot_novelty import (nearest_distances,
                                                           nearest_l1)
from metagan_mm.registry import METRICS

NAMES = ('novelty', 'novelty_real', 'novelty_ratio')
KEYS = {f'fewshot/{p}{n}' for p in ('', 'pixel_') for n in NAMES}


def points(*xy):
    """``[N, 1, 1, 2]`` images whose flattened features are the points."""
    return torch.tensor(xy, dtype=torch.float32).reshape(-1, 1, 1, 2)


def run(metric, dicts):
    metric.process(None, dicts)
    return metric.evaluate(len(dicts))


def novelty(dicts, **kwargs):
    return run(
        FewShotNovelty(feature_net=nn.Flatten(), device='cpu', **kwargs),
        dicts)


def test_nearest_distances_hand_values():
    d = nearest_distances(
        np.array([[0., 3.], [10., 4.], [7., 0.]]),
        np.array([[0., 0.], [10., 0.]]))
    assert np.allclose(d, [3.0, 4.0, 3.0])
    with pytest.raises(ValueError, match='non-empty'):
        nearest_distances(np.zeros((2, 2)), np.zeros((0, 2)))


def test_hand_computed_two_classes():
    dicts = [
        dict(
            class_idx=0,
            class_name='a',
            support=points((0, 0), (10, 0)),
            fake=points((0, 3), (10, 4)),
            real=points((0, 6), (7, 0))),
        dict(
            class_idx=1,
            class_name='b',
            support=points((0, 0)),
            fake=points((1, 0)),
            real=points((2, 0))),
    ]
    out = novelty(dicts)
    assert set(out) == KEYS
    # fake: 3, 4, 1 -> 8/3; real: 6, 3, 2 -> 11/3
    assert out['fewshot/novelty'] == pytest.approx(8 / 3, rel=1e-6)
    assert out['fewshot/novelty_real'] == pytest.approx(11 / 3, rel=1e-6)
    assert out['fewshot/novelty_ratio'] == pytest.approx(8 / 11, rel=1e-6)
    # pixels (mean |difference| of the 2 values): fake 1.5, 2, 0.5; real
    # 3, 1.5, 1
    assert out['fewshot/pixel_novelty'] == pytest.approx(4 / 3, rel=1e-6)
    assert out['fewshot/pixel_novelty_real'] == pytest.approx(
        5.5 / 3, rel=1e-6)
    assert out['fewshot/pixel_novelty_ratio'] == pytest.approx(
        8 / 11, rel=1e-6)


def test_nearest_l1_hand_values():
    d = nearest_l1(
        np.array([[[0., 3.]], [[10., 4.]]]), np.array([[[0., 0.]], [[10.,
                                                                     0.]]]))
    assert np.allclose(d, [1.5, 2.0])
    with pytest.raises(ValueError, match='same shape'):
        nearest_l1(np.zeros((2, 2)), np.zeros((1, 3)))


def make_classes(fake_kind, classes=4, k=4, n=500, seed=0):
    """Per class: a centre, K support, n references and n generations,
    all ``N(centre, I)`` in 8 dims (``[N, 2, 2, 2]`` images)."""
    gen = torch.Generator().manual_seed(seed)
    dicts = []
    for c in range(classes):
        centre = 2.0 * torch.randn(1, 2, 2, 2, generator=gen)

        def draw(m, centre=centre):
            return centre + torch.randn(m, 2, 2, 2, generator=gen)

        support = draw(k)
        if fake_kind == 'independent':
            fake = draw(n)
        elif fake_kind == 'copies':
            fake = support[torch.arange(n) % k]
        else:  # copies with a little noise
            fake = support[torch.arange(n) % k] + 1e-3 * torch.randn(
                n, 2, 2, 2, generator=gen)
        dicts.append(
            dict(
                class_idx=c,
                class_name=f'c{c}',
                support=support,
                fake=fake,
                real=draw(n)))
    return dicts


def test_copies_of_the_support_give_ratio_zero():
    out = novelty(make_classes('copies'))
    assert out['fewshot/novelty'] == pytest.approx(0.0, abs=1e-3)
    assert out['fewshot/novelty_ratio'] == pytest.approx(0.0, abs=1e-3)
    assert out['fewshot/pixel_novelty_ratio'] == pytest.approx(0.0, abs=1e-6)
    assert out['fewshot/novelty_real'] > 1.0
    near = novelty(make_classes('near-copies'))
    assert 0 < near['fewshot/novelty_ratio'] < 0.01


def test_independent_samples_give_ratio_one():
    out = novelty(make_classes('independent'))
    # 2000 nearest-support distances per side (mean ~2.9), same law
    assert out['fewshot/novelty_ratio'] == pytest.approx(1.0, abs=0.05)
    assert out['fewshot/novelty'] == pytest.approx(
        out['fewshot/novelty_real'], rel=0.05)


def test_built_from_registry_with_prefix_and_needs_support():
    metric = METRICS.build(
        dict(
            type='FewShotNovelty',
            feature_net=nn.Flatten(),
            device='cpu',
            prefix='novel'))
    dicts = make_classes('independent', classes=2, n=20)
    out = run(metric, dicts)
    assert set(out) == {k.replace('fewshot/', 'novel/') for k in KEYS}
    no_support = [dict(d, support=None) for d in dicts]
    with pytest.raises(KeyError, match='no support images'):
        metric.process(None, no_support)


def test_unseen_glyphs_with_the_domain_network(feature_net_cfg, unseen_classes,
                                               make_class_dicts):
    """Held-out real drawings ~ 1, copies of the shots 0, noise > 1."""
    metric = FewShotNovelty(feature_net=feature_net_cfg, device='cpu')
    held = run(metric, make_class_dicts(unseen_classes, 'heldout'))
    noise = run(metric, make_class_dicts(unseen_classes, 'noise'))
    copies = [
        dict(d, fake=d['support'][torch.arange(8) % len(d['support'])])
        for d in make_class_dicts(unseen_classes, 'heldout')
    ]
    copied = run(metric, copies)
    assert held['fewshot/novelty_ratio'] == pytest.approx(1.0, abs=0.15)
    assert copied['fewshot/novelty_ratio'] == pytest.approx(0.0, abs=1e-3)
    assert noise['fewshot/novelty_ratio'] > 1.5
