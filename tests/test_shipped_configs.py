"""Every config under configs/ (not _base_) resolves and builds its model."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import metagan_mm  # noqa: F401
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
    shots = torch.rand(4, 1, 32, 32) * 2 - 1
    fake = model.generate_adapted(shots, 2, steps=0)  # conditioned: E(shots)
    with torch.no_grad():
        if getattr(model.discriminator, 'condition_size', None):
            score = model.discriminator(fake, model.encoder(shots))
        else:
            score = model.discriminator(fake)
    assert fake.shape[0] == 2 and fake.shape[-1] == 32
    assert score.shape == (2, 1)
    if 'train_cfg' in cfg:
        with LOOPS.switch_scope_and_registry(None) as reg:
            assert reg.get(cfg.train_cfg['type']) is not None
