"""Few-shot metrics on per-class dicts of the unseen glyph classes."""
import logging

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope

from metagan_mm.evaluation import (FewShotDiversity, FewShotFID,
                                   FewShotFidelity, FewShotMMagicMetric)
from metagan_mm.evaluation.metrics import base_fewshot_metric
from metagan_mm.registry import METRICS


def run(metric, dicts, batch=4):
    """Feed class dicts in batches and compute (like the eval loop)."""
    for start in range(0, len(dicts), batch):
        metric.process(None, dicts[start:start + batch])
    return metric.evaluate(len(dicts))


@pytest.fixture(scope='module')
def sets(unseen_classes, make_class_dicts):
    return {
        kind: make_class_dicts(unseen_classes, kind)
        for kind in ('heldout', 'noise', 'identical', 'same')
    }


def test_fid_self_near_zero_noise_large(feature_net_cfg, sets):
    metric = FewShotFID(feature_net=feature_net_cfg)
    same = run(metric, sets['same'])
    held = run(metric, sets['heldout'])
    noise = run(metric, sets['noise'])
    assert set(same) == {'fewshot/fid', 'fewshot/fid_class_mean'}
    assert same['fewshot/fid'] < 1e-3 * noise['fewshot/fid']
    assert same['fewshot/fid_class_mean'] < 1e-3 * noise['fewshot/fid']
    assert held['fewshot/fid'] < 0.5 * noise['fewshot/fid']
    assert noise['fewshot/fid_class_mean'] > held['fewshot/fid_class_mean']


def test_kid_keys_and_order(feature_net_cfg, sets):
    metric = METRICS.build(
        dict(
            type='FewShotKID',
            feature_net=feature_net_cfg,
            num_subsets=20,
            subset_size=50))
    held = run(metric, sets['heldout'])
    noise = run(metric, sets['noise'])
    assert set(held) == {
        'fewshot/kid', 'fewshot/kid_std', 'fewshot/kid_class_mean'
    }
    assert noise['fewshot/kid'] > 10 * abs(held['fewshot/kid'])
    assert noise['fewshot/kid_class_mean'] > held['fewshot/kid_class_mean']
    assert run(metric, sets['heldout']) == held  # deterministic


def test_fidelity_real_high_noise_chance(feature_net_cfg, sets):
    metric = FewShotFidelity(feature_net=feature_net_cfg)
    held = run(metric, sets['heldout'])
    noise = run(metric, sets['noise'])
    chance = held['fewshot/fidelity_chance']
    assert chance == pytest.approx(1 / len(sets['heldout']))
    assert held['fewshot/fidelity'] > 0.7
    assert held['fewshot/fidelity_real'] > 0.7
    assert noise['fewshot/fidelity'] < 0.25
    assert noise['fewshot/fidelity_real'] == held['fewshot/fidelity_real']


def test_diversity_identical_zero_noise_above_real(feature_net_cfg, sets):
    metric = FewShotDiversity(feature_net=feature_net_cfg)
    ident = run(metric, sets['identical'])
    noise = run(metric, sets['noise'])
    held = run(metric, sets['heldout'])
    assert ident['fewshot/diversity'] == pytest.approx(0.0, abs=1e-6)
    assert noise['fewshot/diversity'] > ident['fewshot/diversity_real']
    assert held['fewshot/diversity'] == pytest.approx(
        held['fewshot/diversity_real'], rel=0.5)
    assert held['fewshot/diversity'] > 0.05


@pytest.mark.slow
def test_swd_through_adapter(sets):
    metric = FewShotMMagicMetric(metric=dict(type='SWD'))
    # a few classes: mmagic's SWD sorts its projections slowly on CPU
    held = run(metric, sets['heldout'][:5])
    noise = run(metric, sets['noise'][:5])
    assert set(held) == {'fewshot_swd/32', 'fewshot_swd/16', 'fewshot_swd/avg'}
    assert noise['fewshot_swd/avg'] > 2 * held['fewshot_swd/avg']
    state = np.random.get_state()[1].copy()
    assert run(metric, sets['heldout'][:5]) == held  # seeded
    assert (np.random.get_state()[1] == state).all()  # global RNG restored


def test_ms_ssim_through_adapter(sets):
    metric = METRICS.build(
        dict(type='FewShotMMagicMetric', metric=dict(type='MS_SSIM')))
    ident = run(metric, sets['identical'])
    held = run(metric, sets['heldout'])
    assert set(ident) == {'fewshot_ms-ssim/avg'}
    assert ident['fewshot_ms-ssim/avg'] == pytest.approx(1.0, abs=1e-3)
    assert held['fewshot_ms-ssim/avg'] < 0.9


def test_evaluator_shares_features_and_prefixes(feature_net_cfg, sets,
                                                monkeypatch):
    """FID, KID and fidelity in one evaluator extract features once."""
    with DefaultScope.overwrite_default_scope('mmagic'):  # as the runner
        evaluator = Evaluator([
            dict(type='FewShotFID', feature_net=feature_net_cfg),
            dict(
                type='FewShotKID', feature_net=feature_net_cfg, num_subsets=5),
            dict(
                type='FewShotFidelity',
                feature_net=feature_net_cfg,
                prefix='fs'),
        ])
    net = evaluator.metrics[0].feature_net
    assert all(m.feature_net is net for m in evaluator.metrics)
    calls = []
    forward = net.forward
    monkeypatch.setattr(net, 'forward',
                        lambda x: calls.append(len(x)) or forward(x))
    dicts = sets['heldout']
    evaluator.process(data_samples=dicts, data_batch=None)
    out = evaluator.evaluate(len(dicts))
    assert sum(calls) == sum(len(d['fake']) + len(d['real']) for d in dicts)
    assert {'fewshot/fid', 'fewshot/kid', 'fs/fidelity'} <= set(out)


def test_per_class_values_logged_at_debug(feature_net_cfg, sets):
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = records.append
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        run(FewShotFID(feature_net=feature_net_cfg), sets['heldout'])
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    debug = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert any(
        'FewShotFID per class' in m and sets['heldout'][0]['class_name'] in m
        for m in debug)


def test_bad_inputs_are_explained(feature_net_cfg):
    metric = FewShotFID(feature_net=feature_net_cfg)
    with pytest.raises(KeyError, match='real'):
        metric.process(None, [dict(class_idx=0, fake=torch.zeros(2, 1, 8, 8))])
    with pytest.raises(ValueError, match=r'\[N, C, H, W\]'):
        metric.process(None, [
            dict(
                class_idx=0,
                fake=torch.zeros(1, 8, 8),
                real=torch.zeros(2, 1, 8, 8))
        ])
    assert base_fewshot_metric.parse_class_item(
        dict(
            class_idx=3,
            fake=torch.zeros(2, 1, 8, 8),
            real=torch.zeros(2, 1, 8, 8)))['class_name'] == '3'


def test_warns_when_feature_net_knows_the_class(feature_net_cfg, sets):
    from mmengine.logging import MMLogger
    metric = FewShotFidelity(feature_net=feature_net_cfg)
    seen_name = metric.feature_net.class_names[0]
    item = dict(sets['heldout'][0], class_name=seen_name)
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        metric.process(None, sets['heldout'][1:3])
        assert not records
        metric.process(None, [item])
    finally:
        logger.removeHandler(handler)
    assert any('trained on' in r.getMessage() for r in records)
