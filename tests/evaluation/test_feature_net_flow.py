"""The README's evaluation flow: train the feature net, then test, per config.

``tools/train_feature_extractor.py CONFIG`` must write the file that
``tools/test.py CONFIG``'s metrics read, for inherited configs too.
"""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from metagan_mm.evaluation.feature_nets.trainer import feature_net_path
from metagan_mm.registry import MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)
IDS = [osp.relpath(p, REPO_ROOT) for p in CONFIGS]


def metric_reads(cfg):
    """Checkpoints of every DomainFeatureExtractor the metrics build."""
    return {
        m['feature_net']['checkpoint']
        for m in cfg.get('test_evaluator') or []
        if (m.get('feature_net') or {}).get('type') == 'DomainFeatureExtractor'
    }


@pytest.mark.parametrize('path', CONFIGS, ids=IDS)
def test_trainer_writes_where_the_metrics_read(path, monkeypatch):
    monkeypatch.delenv('METAGAN_FEATURE_NET', raising=False)
    cfg = Config.fromfile(path)
    reads = metric_reads(cfg)
    written = feature_net_path(cfg, path)
    if reads:
        assert reads == {written}
        data = 'omniglot' if 'omniglot' in osp.basename(path) else 'glyphs'
        assert written == f'work_dirs/feature_nets/{data}_domain_32x32.pth'
    else:
        name = osp.splitext(osp.basename(path))[0]
        assert written == f'work_dirs/feature_nets/{name}.pth'


FLOW = [
    'configs/reptile/reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py',
    'configs/reptile/reptile_ln-dcgan-half_1xb4-6kiters_omniglot-32x32.py',
]


@pytest.mark.parametrize('config', FLOW)
def test_train_feature_net_then_test(config, tmp_path, monkeypatch, request,
                                     tool):
    """The README's two commands, on tiny settings, from a fresh folder."""
    config = osp.join(REPO_ROOT, config)
    monkeypatch.delenv('METAGAN_FEATURE_NET', raising=False)
    if 'omniglot' in config:
        root = request.getfixturevalue('omniglot_root')
        monkeypatch.setenv('METAGAN_OMNIGLOT', osp.abspath(root))
    monkeypatch.chdir(tmp_path)
    fnet = tool('train_feature_extractor').main([config, '--iters', '2'])
    assert fnet == feature_net_path(Config.fromfile(config), config)
    assert osp.isfile(tmp_path / fnet)
    cfg = Config.fromfile(config)
    init_default_scope('mmagic')
    model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'iter_0.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)
    metrics = tool('test').main([
        config, ckpt, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', 'test_cfg.num_samples=8',
        'model.inner_loop.steps=1', 'custom_hooks=[]'
    ])
    # the metrics of the domain network (FID, fidelity) were computed
    assert math.isfinite(metrics['fewshot/fid'])
    assert metrics['fewshot/fid'] >= 0
    assert 0 <= metrics['fewshot/fidelity_real'] <= 1
