"""The evaluation flow of docs/user_guides/evaluation.md: train the feature
net, then test, for every config under ``configs/`` (found by globbing, so
new configs are tested without listing them).

``tools/train_feature_extractor.py CONFIG`` must write the file that
``tools/test.py CONFIG``'s metrics read, for inherited configs too.
"""
import copy
import glob
import inspect
import json
import math
import os
import os.path as osp
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from metagan_mm.evaluation.feature_nets import (DomainFeatureExtractor,
                                                feature_net_path)
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


def class_dataset(cfg) -> dict:
    """The class data set the feature network trains on."""
    data = cfg.train_dataloader.dataset
    return data.get('dataset', data)


def load_with_local_data(config, request, monkeypatch) -> Config:
    """The config, pointed at local data (Omniglot: ``../shared/data``);
    skips, saying why, where the data or its metrics' weights are absent."""
    cfg = Config.fromfile(config)
    if class_dataset(cfg)['type'] == 'OmniglotDataset':
        root = request.getfixturevalue('omniglot_root')
        monkeypatch.setenv('METAGAN_OMNIGLOT', osp.abspath(root))
        cfg = Config.fromfile(config)
    root = class_dataset(cfg).get('data_root')
    if root and not (osp.isabs(root) and osp.exists(root)):
        pytest.skip(f'{osp.basename(config)}: data root {root!r} not found '
                    '(the test runs the tools from a fresh folder: give an '
                    'absolute path through its environment variable)')
    for metric in cfg.get('test_evaluator') or []:
        net = metric.get('feature_net') or {}
        weights = net.get('weights') or ''
        if net.get('type') == 'InceptionFeatureExtractor' and \
                not osp.isfile(weights):
            pytest.skip(f'{osp.basename(config)}: Inception weights '
                        f'{weights!r} not found (never downloaded)')
    if not metric_reads(cfg):
        pytest.skip(f'{osp.basename(config)}: no DomainFeatureExtractor '
                    'metric reads a feature network')
    return cfg


def narrower_nets(cfg) -> dict:
    """``base_channels`` an eighth as wide (at least 4) for every network of
    ``cfg.model`` that takes it, if the model still builds so: FIGR's own
    DCGAN has 36M parameters."""
    options = {}
    for name, net in cfg.model.items():
        if not isinstance(net, dict) or 'type' not in net:
            continue
        cls = MODELS.get(net['type'])
        if cls is None:  # not a network: an algorithm (core.ALGORITHMS)
            continue
        params = inspect.signature(cls).parameters
        if 'base_channels' in params:
            width = net.get('base_channels', params['base_channels'].default)
            options[f'model.{name}.base_channels'] = max(4, width // 8)
    narrow = copy.deepcopy(cfg)
    narrow.merge_from_dict(options)
    try:
        MODELS.build(narrow.model)
    except Exception:  # coupled widths: test at the config's own
        return {}
    return options


def tiny_options(cfg) -> dict:
    """Overrides that make testing ``cfg`` quick: narrower networks, 4
    generations and at most 4 real references per class, 4 unseen Omniglot
    classes, one adaptation step (a config's own ``test_cfg.steps`` stays),
    no visualisation hook."""
    options = {
        'test_cfg.num_samples': 4,
        'custom_hooks': [],
        'model.inner_loop.steps': 1
    }
    if cfg.test_dataloader.dataset.get('type') == 'EpisodicDataset':
        options['test_dataloader.dataset.num_reference'] = 4
        if cfg.test_dataloader.dataset.dataset.get('type') == \
                'OmniglotDataset':  # 4 of the 39 unseen characters
            options['test_dataloader.dataset.dataset.split.test'] = [
                f'{alphabet}/character0{i}'
                for alphabet in ('Tagalog', 'Early_Aramaic') for i in (1, 2)
            ]
    options.update(narrower_nets(cfg))
    return options


@pytest.fixture(scope='session')
def feature_net_of():
    """``feature_net_of(config, cfg, ...)``: the file that
    ``tools/train_feature_extractor.py CONFIG --iters 2`` writes, run from a
    fresh folder once per class data set and metric file (configs that
    share both give that command the same input); returns the folder it
    ran in and the file's path relative to it."""
    runs = {}

    def run(config, cfg, tool, tmp_path_factory):
        key = json.dumps(
            [class_dataset(cfg).to_dict(),
             sorted(metric_reads(cfg))],
            sort_keys=True,
            default=str)
        if key not in runs:
            folder = tmp_path_factory.mktemp('fnet')
            with pytest.MonkeyPatch.context() as mp:
                mp.chdir(folder)
                fnet = tool('train_feature_extractor').main(
                    [config, '--iters', '2'])
            runs[key] = (folder, fnet)
        return runs[key]

    return run


@pytest.mark.slow
@pytest.mark.parametrize('config', CONFIGS, ids=IDS)
def test_train_feature_net_then_test(config, tmp_path, monkeypatch, request,
                                     tool, feature_net_of, tmp_path_factory):
    """The evaluation page's two commands for every shipped config, on tiny
    settings, from a fresh folder: the network is written where the
    config's metrics read it, and they give numbers in range."""
    monkeypatch.delenv('METAGAN_FEATURE_NET', raising=False)
    cfg = load_with_local_data(config, request, monkeypatch)
    folder, fnet = feature_net_of(config, cfg, tool, tmp_path_factory)
    assert fnet == feature_net_path(cfg, config)
    state = torch.load(folder / fnet, weights_only=True)
    assert state['iters'] == 2 and state['split_part'] == 'train'
    monkeypatch.chdir(tmp_path)
    os.makedirs(osp.dirname(fnet), exist_ok=True)
    shutil.copy(folder / fnet, fnet)

    init_default_scope('mmagic')
    options = tiny_options(cfg)
    cfg.merge_from_dict(options)
    ckpt = str(tmp_path / 'iter_0.pth')
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, ckpt)
    read = []
    load = DomainFeatureExtractor.load_checkpoint_file

    def spy(path):
        read.append(osp.abspath(path))
        return load(path)

    monkeypatch.setattr(DomainFeatureExtractor, 'load_checkpoint_file',
                        staticmethod(spy))
    metrics = tool('test').main(
        [config, ckpt, '--work-dir',
         str(tmp_path / 'test'), '--cfg-options'] +
        [f'{key}={value}' for key, value in options.items()])
    # the metrics read the file the first command wrote
    assert set(read) == {str(tmp_path / fnet)}
    assert all(
        isinstance(v, float) and math.isfinite(v) for v in metrics.values()
        if not isinstance(v, (list, dict))), metrics
    assert metrics['fewshot/fid'] >= 0
    assert 0 <= metrics['fewshot/fidelity'] <= 1
    assert 0 <= metrics['fewshot/fidelity_real'] <= 1
