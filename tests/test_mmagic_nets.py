"""mmagic's own GANs inside every meta-learner (docs/user_guides/
meta_learn_your_gan.md): each cell of the matrix trains batched, trains
sequentially for a logged reason, or is refused when the model is built.

The nets are mmagic's, at tiny widths where mmagic lets the width be set;
StyleGAN2's widths are fixed (512 channels up to 32x32), so its fast cells
run at 8x8 and the 32x32 ones are slow (``METAGAN_SLOW_TESTS=1``).
"""
import os
import os.path as osp
import re
import warnings

import pytest
import torch
from meta_gan_helpers import message_hub  # noqa: F401
from meta_gan_helpers import build, optim, params
from mmagic.structures import DataSample
from training_helpers import (REPO_ROOT, assert_trained, train_in_process,
                              write_class_folders)

from metagan_mm.core.algorithms.double_backward import DerivativeOrderError

NZ = 8
SLOW = pytest.mark.skipif(
    os.environ.get('METAGAN_SLOW_TESTS') != '1',
    reason='slow (minutes a cell on 2 CPU cores); set '
    'METAGAN_SLOW_TESTS=1')


def dcgan(norm=None):
    """mmagic's DCGAN pair at 32x32 (BatchNorm, or ``norm``)."""
    extra = {} if norm is None else dict(default_norm_cfg=norm)
    gen = dict(
        type='DCGANGenerator',
        output_scale=32,
        noise_size=NZ,
        base_channels=16,
        **extra)
    disc = dict(
        type='DCGANDiscriminator',
        input_scale=32,
        output_scale=4,
        out_channels=1,
        base_channels=8,
        **extra)
    return gen, disc


def sngan():
    """mmagic's SNGAN generator (BatchNorm, no conditional BN) and
    projection discriminator (spectral norm) at 32x32."""
    gen = dict(
        type='SNGANGenerator',
        output_scale=32,
        noise_size=NZ,
        base_channels=8,
        use_cbn=False)
    return gen, dict(type='ProjDiscriminator', input_scale=32, base_channels=8)


def stylegan2(size):
    """mmagic's StyleGAN2 pair at ``size`` (its widths, 1 mapping layer)."""
    gen = dict(
        type='StyleGAN2Generator',
        out_size=size,
        style_channels=NZ,
        num_mlps=1)
    return gen, dict(type='StyleGAN2Discriminator', in_size=size)


NETS = {
    'dcgan': dcgan(),
    'dcgan-gn': dcgan(dict(type='GN', num_groups=1)),
    'sngan-proj': sngan(),
    'stylegan2-8x8': stylegan2(8),
    'stylegan2-32x32': stylegan2(32),
}
# Image size and tasks per meta-batch (StyleGAN2: one task, 512 channels).
BATCHES = {
    'stylegan2-8x8': dict(size=8, num_tasks=1),
    'stylegan2-32x32': dict(size=32, num_tasks=1),
}

LEARNERS = {
    'reptile': dict(type='ReptileGAN'),
    'maml-first-order': dict(type='MAMLGAN', num_support=2, first_order=True),
    'maml-second-order':
    dict(type='MAMLGAN', num_support=2, first_order=False),
    'meta-sgd-second-order': dict(type='MetaSGDGAN', num_support=2),
}

BATCHED = ('batched', None)
BATCHNORM = ('sequential', r'DCGANGenerator.noise2feat.bn \(BatchNorm2d\) '
             'updates running statistics')
SNGAN = ('sequential', 'SNGANGenerator.*updates running statistics.*'
         'ProjDiscriminator.* has a spectral_norm hook')
RANDOM = ('sequential', 'torch.func.vmap failed, running tasks in a loop '
          r'\(RuntimeError: vmap: called random operation')
REFUSED = ('refused', r'Meta-training takes derivatives of order 3 of the '
           r'discriminator DCGANDiscriminator \(second-order meta-gradients, '
           r'model.first_order=False, with the WGAN-GP gradient penalty.*'
           r'its layer downsamples.1.bn \(BatchNorm2d\) supports only order '
           r'2 \(RuntimeError: batch_norm does not support 3rd\+ order '
           r'derivatives\). Fixes: first-order meta-gradients: '
           r'model.first_order=True')
# The outcome of each pair in each learner, in LEARNERS' order (the table
# of docs/user_guides/meta_learn_your_gan.md).
MATRIX = {
    'dcgan': (BATCHNORM, BATCHNORM, REFUSED, REFUSED),
    'dcgan-gn': (BATCHED, ) * 4,
    'sngan-proj': (SNGAN, ) * 4,
    'stylegan2-8x8': (RANDOM, ) * 4,
    'stylegan2-32x32': (RANDOM, ) * 4,
}


def meta_gan_cfg(nets, learner, **inner):
    """A meta-GAN of ``NETS[nets]`` with ``LEARNERS[learner]``: 1 SGD
    inner step, WGAN-GP, RGB, vmap asked for (``'auto'`` would loop on the
    CPU for StyleGAN2's size without trying)."""
    gen, disc = NETS[nets]
    cfg = dict(
        LEARNERS[learner],
        data_preprocessor=dict(
            type='DataPreprocessor',
            mean=[127.5] * 3,
            std=[127.5] * 3,
            data_keys=None),
        generator=gen,
        discriminator=disc,
        inner_loop=dict(
            steps=1,
            g_lr=0.01,
            d_lr=0.01,
            optimizer='sgd',
            batching=dict(mode='vmap'),
            **inner))
    return cfg


def rgb_batch(size, num_tasks=2, num_images=4, k_shot=2):
    """A meta-batch of random RGB uint8 tasks."""
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randint(
        0,
        256, (num_tasks, num_images, 3, size, size),
        generator=gen,
        dtype=torch.uint8)
    samples = [
        DataSample(metainfo=dict(task_index=i, k_shot=k_shot))
        for i in range(num_tasks)
    ]
    return dict(inputs=inputs, data_samples=samples)


def train_one_iteration(cfg, size=32, num_tasks=2):
    """Build, run one meta-iteration; return the model, the logs, the
    parameters before, and the batching notes logged."""
    model = build(cfg)
    before = params(model)
    names = ('generator', 'discriminator') + (
        ('inner_rates', ) if cfg['type'] == 'MetaSGDGAN' else ())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        logs = model.train_step(
            rgb_batch(size, num_tasks), optim(model, 0.1, names))
    notes = [
        str(w.message) for w in caught
        if issubclass(w.category, RuntimeWarning)
        and str(w.message).startswith('metagan_mm:')
    ]
    return model, logs, before, notes


def check_cell(nets, learner):
    outcome, message = MATRIX[nets][list(LEARNERS).index(learner)]
    cfg = meta_gan_cfg(nets, learner)
    if outcome == 'refused':
        with pytest.raises(DerivativeOrderError, match=message):
            build(cfg)
        return
    model, logs, before, notes = train_one_iteration(cfg,
                                                     **BATCHES.get(nets, {}))
    assert float(logs['tasks_skipped']) == 0.0
    assert float(logs['tasks_batched']) == float(outcome == 'batched')
    if outcome == 'batched':
        assert notes == []
    else:
        assert any(re.search(message, note) for note in notes), notes
    assert_trained(before, model)


# StyleGAN2's cells (its fixed-width mapping net) are in the slow tier
CELLS = [
    pytest.param(
        n,
        k,
        id=f'{n}-{k}',
        marks=pytest.mark.slow if n.startswith('stylegan2') else ())
    for n in NETS if n != 'stylegan2-32x32' for k in LEARNERS
]


@pytest.mark.parametrize('nets, learner', CELLS)
def test_mmagic_nets_in_every_meta_learner(nets, learner):
    check_cell(nets, learner)


@SLOW
@pytest.mark.parametrize('learner', list(LEARNERS))
def test_stylegan2_32x32_in_every_meta_learner(learner):
    check_cell('stylegan2-32x32', learner)


def test_dcgan_batchnorm_trains_second_order_without_gradient_penalty():
    cfg = meta_gan_cfg('dcgan', 'maml-second-order', loss='hinge')
    model, logs, before, notes = train_one_iteration(cfg)
    assert float(logs['tasks_skipped']) == 0.0
    assert float(logs['tasks_batched']) == 0.0
    assert any('updates running statistics' in note for note in notes)
    assert_trained(before, model)


def readme_snippet():
    """The config of "Meta-train the GAN of your config" in
    docs/user_guides/meta_learn_your_gan.md."""
    with open(
            osp.join(REPO_ROOT, 'docs', 'user_guides',
                     'meta_learn_your_gan.md')) as f:
        text = f.read()
    section = text.split('## Meta-train the GAN of your config')[1]
    return section.split('```python\n')[1].split('```')[0]


def test_readme_snippet_meta_trains_an_mmagic_gan_config(tmp_path):
    config = tmp_path / 'my_meta_dcgan.py'
    config.write_text(readme_snippet())
    write_class_folders(tmp_path / 'classes')
    before, model, runner = train_in_process(
        config, tmp_path / 'work', {
            'train_dataloader.dataset.dataset.data_root': str(
                tmp_path / 'classes'),
            'train_dataloader.batch_size': 2,
            'train_dataloader.num_workers': 0,
            'model.generator.base_channels': 16,
            'model.discriminator.base_channels': 8,
            'model.inner_loop.steps': 1,
            'train_cfg.max_iters': 1,
            'default_hooks.checkpoint': None,
        })
    assert type(model).__name__ == 'ReptileGAN'
    assert type(model.generator).__name__ == 'DCGANGenerator'
    assert runner.iter == 1
    assert_trained(before, model)
