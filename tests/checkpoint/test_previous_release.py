"""Checkpoints written by the previous release load and resume, safely.

``tests/fixtures/checkpoints/0.1.0/`` holds one tiny checkpoint per algorithm,
written by release 0.1.0 (commit c18265a) with ``tools/train.py CONFIG
--cfg-options *OPTIONS[algorithm] train_cfg.max_iters=1``.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from metagan_mm.checkpoint import load_checkpoint_file, load_model_weights
from metagan_mm.registry import MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO_ROOT, 'tests', 'fixtures', 'checkpoints', '0.1.0')
TINY_NETS = {
    'model.generator.base_channels': 4,
    'model.discriminator.base_channels': 4,
    'model.inner_loop.steps': 1,
    'custom_hooks': [],
    'train_dataloader.batch_size': 2,
    'default_hooks.checkpoint.interval': 1
}
CONFIGS = {  # the 0.1.0 names are in docs/changelog.md
    'reptile':
    'configs/reptile/reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py',
    'maml': 'configs/maml/maml_ln-dcgan-quarter_1xb4-200iters_glyphs-32x32.py',
    'meta-sgd':
    'configs/meta-sgd/meta-sgd_ln-dcgan-quarter_1xb4-200iters_glyphs-32x32.py',
}


def options():
    return [f'{k}={v}' for k, v in TINY_NETS.items()]


@pytest.mark.parametrize('algorithm', sorted(CONFIGS))
def test_loads_strictly_without_trust(algorithm):
    path = osp.join(DATA, f'{algorithm}.pth')
    ckpt = load_checkpoint_file(path)
    assert ckpt['meta']['iter'] == 1
    assert ckpt['message_hub']['runtime_info']['episodic_tasks_consumed'] == 2
    cfg = Config.fromfile(osp.join(REPO_ROOT, CONFIGS[algorithm]))
    cfg.merge_from_dict(TINY_NETS)
    init_default_scope('mmagic')
    model = MODELS.build(cfg.model)
    lines = []
    load_model_weights(model, path, log=lines.append)
    assert lines == [f'loaded {path}: generator = meta-weights']


@pytest.mark.slow
@pytest.mark.parametrize('algorithm', sorted(CONFIGS))
def test_resumes(algorithm, tmp_path, tool):
    # tools/train.py's main, as a user runs it, in this process
    tool('train').main([
        CONFIGS[algorithm], '--work-dir',
        str(tmp_path), '--resume',
        osp.join(DATA, f'{algorithm}.pth'), '--cfg-options', *options(),
        'train_cfg.max_iters=2'
    ])
    log, = glob.glob(str(tmp_path / '*' / '*.log'))
    with open(log) as f:
        assert 'resumed epoch: 0, iter: 1' in f.read()
    assert load_checkpoint_file(str(tmp_path /
                                    'iter_2.pth'))['meta']['iter'] == 2
