"""Every config under configs/ (not _base_) resolves and builds its model;
the configs of mmagic's own nets train on tiny stand-ins of their data."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from training_helpers import (assert_trained, train_in_process,
                              write_class_folders, write_flowers)

import metagan_mm  # noqa: F401
from metagan_mm.apis.fewshot_generation import model_image_shape
from metagan_mm.architectures import condition_size
from metagan_mm.registry import LOOPS, MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


def test_configs_found():
    names = {osp.basename(p) for p in CONFIGS}
    assert 'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py' in names
    assert 'reptile_ln-dcgan-half_1xb4-6kiters_omniglot-32x32.py' in names
    assert len(CONFIGS) >= 13


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, REPO_ROOT) for p in CONFIGS])
def test_config_builds_model_with_registered_loop(path):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    assert cfg.custom_imports['imports'] == ['metagan_mm']
    model = MODELS.build(cfg.model)
    size = int(re.search(r'-(\d+)x(\d+)\.py$', path).group(1))
    channels = model_image_shape(model)[0]
    shots = torch.rand(4, channels, size, size) * 2 - 1
    fake = model.generate_adapted(shots, 2, steps=0)  # conditioned: E(shots)
    with torch.no_grad():
        if condition_size(model.discriminator):
            score = model.discriminator(fake, model.encoder(shots))
        else:
            score = model.discriminator(fake)
    assert fake.shape[0] == 2 and fake.shape[-2:] == (size, size)
    assert score.shape == (2, 1)
    if 'train_cfg' in cfg:
        with LOOPS.switch_scope_and_registry(None) as reg:
            assert reg.get(cfg.train_cfg['type']) is not None


# One meta-iteration of 2 tasks with 1 inner step, no hooks that need
# evaluation files, no checkpoint.
TINY_RUN = {
    'train_cfg.max_iters': 1,
    'train_dataloader.batch_size': 2,
    'train_dataloader.num_workers': 0,
    'train_dataloader.persistent_workers': False,
    'custom_hooks': [],
    'default_hooks.checkpoint': None,
    'model.inner_loop.steps': 1,
}
MMAGIC_NET_RUNS = {
    'reptile/reptile_dcgan_1xb4-20kiters_classfolders-64x64.py':
    ('METAGAN_CLASS_FOLDERS', write_class_folders, {
        'model.generator.base_channels': 16,
        'model.discriminator.base_channels': 8,
    }),
    # StyleGAN2's widths are fixed: 8x8 images keep it to seconds
    'reptile/reptile_stylegan2_1xb4-20kiters_flowers-64x64.py':
    ('METAGAN_LOFGAN', write_flowers, {
        'model.generator.out_size': 8,
        'model.generator.style_channels': 8,
        'model.generator.num_mlps': 1,
        'model.discriminator.in_size': 8,
        'train_dataloader.dataset.dataset.pipeline.0.scale': (8, 8),
        'train_dataloader.dataset.dataset.split.first_n': 4,
    }),
}


@pytest.mark.parametrize('config', list(MMAGIC_NET_RUNS))
def test_mmagic_net_config_trains_on_tiny_data(config, tmp_path, monkeypatch):
    env, write, tiny = MMAGIC_NET_RUNS[config]
    write(tmp_path / 'data')
    monkeypatch.setenv(env, str(tmp_path / 'data'))
    before, model, runner = train_in_process(
        osp.join(REPO_ROOT, 'configs', config), tmp_path / 'work', {
            **TINY_RUN,
            **tiny
        })
    assert runner.iter == 1
    assert_trained(before, model)
