"""Fixtures of the evaluation tests: a small domain feature network trained
once per session on the glyph meta-training classes, and per-class dicts of
the unseen glyph classes."""
import os.path as osp
from typing import Dict, List

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The feature network's runner config.
NET_CONFIG = osp.join(REPO_ROOT, 'configs', '_base_', 'feature_nets',
                      'domain_classifier_train.py')
#: The glyph split of configs/_base_/datasets/glyphs_episodic_32x32.py.
GLYPH_SPLIT = dict(fractions=(0.8, 0.0, 0.2), seed=0)
PIPELINE = [dict(type='PackInputs', keys=['img'], data_keys=[])]
#: A narrow network, few steps, no augmentation: features that separate the
#: unseen glyph classes well (~85 % nearest-class-mean accuracy) in ~15 s.
TEST_ITERS = 300
TEST_NET = {
    'model.extractor.channels': (16, 32, 64),
    'model.shift': 0,
    'model.dropout': 0.0,
    'optim_wrapper.optimizer.lr': 1e-2,
    'param_scheduler.eta_max': 1e-2,
}


def glyph_cfg(split_part: str = 'train') -> dict:
    """Config of the embedded glyph data set (no download)."""
    return dict(
        type='GlyphDataset',
        img_size=32,
        images_per_class=20,
        split=GLYPH_SPLIT,
        split_part=split_part,
        pipeline=PIPELINE)


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` every test that needs the session's trained feature
    network (:func:`trained_net`, about 15 s on 2 cores, once)."""
    for item in items:
        if {'trained_net', 'feature_net_cfg'} & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope='session')
def trained_net(tmp_path_factory) -> Dict:
    """Train a feature network; records every data set config built."""
    from mmengine.config import Config

    from metagan_mm.evaluation.feature_nets import (feature_net_runner_cfg,
                                                    train_feature_extractor)
    from metagan_mm.registry import DATASETS
    built: List[dict] = []
    original = DATASETS.build

    def spy(cfg, *args, **kwargs):
        built.append(dict(cfg))
        return original(cfg, *args, **kwargs)

    out = osp.join(str(tmp_path_factory.mktemp('feature_net')), 'net.pth')
    net_cfg = Config.fromfile(NET_CONFIG)
    net_cfg.merge_from_dict(TEST_NET)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(DATASETS, 'build', spy)
        # ask for the TEST part: the trainer must override it
        cfg = feature_net_runner_cfg(
            net_cfg,
            dict(type='EpisodicDataset', k_shot=4, dataset=glyph_cfg('test')),
            out,
            iters=TEST_ITERS,
            seed=0)
        train_feature_extractor(cfg)
    return dict(path=out, built=built, iters=TEST_ITERS, cfg=cfg)


@pytest.fixture(scope='session')
def feature_net_cfg(trained_net) -> dict:
    """Config of the trained network."""
    return dict(type='DomainFeatureExtractor', checkpoint=trained_net['path'])


@pytest.fixture(scope='session')
def unseen_classes() -> List[Dict]:
    """Per unseen glyph class: support (4) and references (16) in [-1,1]."""
    from metagan_mm.datasets import EpisodicDataset
    dataset = EpisodicDataset(glyph_cfg('test'), k_shot=4, mode='eval', seed=0)
    items = []
    for i in range(len(dataset)):
        item = dataset[i]
        meta = item['data_samples'].metainfo
        items.append(
            dict(
                class_idx=meta['class_idx'],
                class_name=meta['class_name'],
                support=item['inputs']['support'].float() / 127.5 - 1,
                reference=item['inputs']['reference'].float() / 127.5 - 1))
    return items


def class_dicts(unseen: List[Dict],
                fake: str = 'heldout',
                seed: int = 0) -> List[Dict]:
    """Per-class dicts of the evaluation contract.

    ``real`` is the first half of the references; ``fake`` is the other
    half (``'heldout'``: real held-out images), uniform noise (``'noise'``),
    one image repeated (``'identical'``) or ``real`` itself (``'same'``).
    """
    gen = torch.Generator().manual_seed(seed)
    out = []
    for item in unseen:
        ref = item['reference']
        half = ref.shape[0] // 2
        real, heldout = ref[:half], ref[half:]
        if fake == 'heldout':
            fake_imgs = heldout
        elif fake == 'noise':
            fake_imgs = torch.rand(heldout.shape, generator=gen) * 2 - 1
        elif fake == 'identical':
            fake_imgs = heldout[:1].repeat(len(heldout), 1, 1, 1)
        elif fake == 'same':
            fake_imgs = real.clone()
        else:
            raise ValueError(fake)
        out.append(
            dict(
                class_idx=item['class_idx'],
                class_name=item['class_name'],
                fake=fake_imgs,
                real=real,
                support=item['support']))
    return out


@pytest.fixture(scope='session')
def make_glyph_cfg():
    """:func:`glyph_cfg` (test modules cannot import conftest)."""
    return glyph_cfg


@pytest.fixture(scope='session')
def make_class_dicts():
    """:func:`class_dicts` (test modules cannot import conftest)."""
    return class_dicts
