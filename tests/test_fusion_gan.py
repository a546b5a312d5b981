"""FusionGAN: training through tools/, exact resume, 2 ranks == 1, and
few-shot generation from K shots."""
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from training_helpers import (REPO_ROOT, _free_port, _run, assert_same_weights,
                              assert_trained, stopped_at, train_in_process,
                              weights)

import metagan_mm  # noqa: F401
from metagan_mm.apis.fewshot_generation import (generate_from_shots,
                                                model_image_shape)
from metagan_mm.registry import MODELS

CONFIG = osp.join(REPO_ROOT, 'configs', 'fusion',
                  'fusion_local-fusion-small_1xb8-600iters_glyphs-32x32.py')
TINY_NETS = [
    'model.generator.base_channels=4', 'model.discriminator.base_channels=4'
]
TINY = TINY_NETS + [
    'custom_hooks=[]', 'default_hooks.logger.interval=1',
    'default_hooks.checkpoint.interval=2'
]


def tiny_model():
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({
        'model.generator.base_channels': 4,
        'model.discriminator.base_channels': 4
    })
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def train(work_dir, *options, max_iters=4, batch_size=4, resume=False):
    args = [
        sys.executable, 'tools/train.py', CONFIG, '--work-dir',
        str(work_dir)
    ] + (['--resume'] if resume else [])
    return _run(args + [
        '--cfg-options', *TINY, f'train_cfg.max_iters={max_iters}',
        f'train_dataloader.batch_size={batch_size}', *options
    ])


@pytest.mark.slow
def test_resume_is_exact(tmp_path):
    train(tmp_path / 'full')  # checkpoints at 2 and 4
    _, saved = weights(stopped_at(tmp_path / 'full', 2, tmp_path / 'cut'))
    proc = train(tmp_path / 'cut', resume=True)
    assert 'resumed epoch: 0, iter: 2' in proc.stdout + proc.stderr
    _, full = weights(tmp_path / 'full' / 'iter_4.pth')
    _, cut = weights(tmp_path / 'cut' / 'iter_4.pth')
    assert_same_weights(full, cut, atol=1e-6)
    assert max(float((saved[k] - cut[k]).abs().max()) for k in saved) > 1e-4
    log = proc.stdout + proc.stderr
    assert 'loss_outer_d_loss' in log and 'loss_outer_g_loss' in log


@pytest.mark.slow
def test_two_ranks_equal_one(tmp_path):
    config = tmp_path / 'consistency.py'
    config.write_text(f"_base_ = [{CONFIG!r}]\n"
                      "custom_hooks = [dict(type='WeightsConsistencyHook', "
                      "interval=1, dump=True)]\n")
    # plain SGD: Adam's normalisation turns the rounding differences of
    # near-zero gradients (summation order) into full-size steps
    options = TINY_NETS + [
        'default_hooks.logger.interval=1', 'train_cfg.max_iters=3',
        'default_hooks.checkpoint.interval=3',
        'optim_wrapper.generator.optimizer.type=SGD',
        'optim_wrapper.discriminator.optimizer.type=SGD',
        'optim_wrapper.generator.optimizer.lr=1e-3',
        'optim_wrapper.discriminator.optimizer.lr=1e-3'
    ]
    one, two = tmp_path / 'one', tmp_path / 'two'
    _run([
        sys.executable, 'tools/train.py',
        str(config), '--work-dir',
        str(one), '--cfg-options', *options, 'train_dataloader.batch_size=4'
    ])
    proc = _run([
        'bash', 'tools/dist_train.sh',
        str(config), '2', '--work-dir',
        str(two), '--cfg-options', *options, 'train_dataloader.batch_size=2'
    ],
                env={
                    'PORT': str(_free_port()),
                    'PYTHON': sys.executable
                })
    assert 'Distributed launcher: pytorch' in proc.stdout + proc.stderr
    rank0 = json.loads((two / 'weights_rank0.json').read_text())
    rank1 = json.loads((two / 'weights_rank1.json').read_text())
    assert rank0 == rank1  # bitwise identical weights on both ranks
    _, w_one = weights(one / 'iter_3.pth')
    _, w_two = weights(two / 'iter_3.pth')
    assert_same_weights(w_one, w_two, atol=1e-5)


@pytest.mark.parametrize('k', [1, 2, 3, 4, 5])
def test_generate_from_k_shots(k):
    model = tiny_model()
    assert model_image_shape(model) == (1, 32, 32)
    shots = torch.rand(k, 1, 32, 32) * 2 - 1
    out = model.generate_adapted(shots, 3, steps=0, seed=1)
    assert out.shape == (3, 1, 32, 32)
    torch.testing.assert_close(out,
                               model.generate_adapted(shots, 3, 0, seed=1))
    spread = float((out - out[:1]).abs().max())
    if k == 1:  # nothing to fuse: every generation reconstructs the shot
        assert spread < 1e-6
        want = model.generator.decoder(model.generator.encoder(shots))
        torch.testing.assert_close(out, want.expand(3, -1, -1, -1))
    else:
        assert spread > 1e-4


def test_finetuning_changes_a_copy_only():
    model = tiny_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    shots = torch.rand(3, 1, 32, 32) * 2 - 1
    tuned = model.generate_adapted(shots, 2, steps=2, seed=0)
    plain = model.generate_adapted(shots, 2, steps=0, seed=0)
    assert (tuned - plain).abs().max() > 1e-5
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_generate_tool_api_writes_k_shot_images(tmp_path):
    model = tiny_model()
    shots = torch.randint(0, 256, (3, 1, 32, 32), dtype=torch.uint8)
    files = generate_from_shots(model, shots, 4, str(tmp_path), steps=0)
    assert len(files) == 5 and files[-1].endswith('grid.png')


def test_model_num_classes_sizes_the_class_head():
    model = tiny_model()  # the config: model.num_classes=76
    assert model.discriminator.num_classes == 76
    assert model.discriminator.class_head.out_features == 76
    cfg = Config.fromfile(CONFIG)
    cfg.model.discriminator.num_classes = 50
    with pytest.raises(
            ValueError,
            match='model.num_classes=76 but model.'
            'discriminator.num_classes=50; set only one'):
        MODELS.build(cfg.model)


def test_labels_outside_the_class_head_are_named():
    model = tiny_model()
    from mmagic.structures import DataSample
    samples = [DataSample(metainfo=dict(class_idx=80, task_index=0))]
    with pytest.raises(
            ValueError, match='num_classes=76; set model.num_classes'):
        model._labels(samples)
    with pytest.raises(ValueError, match='class_idx'):
        model._labels([DataSample(metainfo=dict(task_index=0))])


@pytest.mark.slow
@pytest.mark.parametrize(
    'algorithm', [
        None,
        dict(type='MAML', num_support=2, first_order=False),
        dict(type='MetaSGD', num_support=2, first_order=False)
    ],
    ids=['reptile', 'maml-second-order', 'meta-sgd-second-order'])
def test_meta_learners_train_the_fusion_nets(tmp_path, algorithm):
    """Reptile (the config's), second-order MAML and Meta-SGD (whose
    build-time derivative check probes the fusion nets on shots) train
    the fusion nets from a config."""
    config = osp.join(
        REPO_ROOT, 'configs', 'fusion',
        'reptile_local-fusion-small_1xb4-600iters_glyphs-32x32.py')
    options = {
        'model.generator.base_channels': 2,
        'model.discriminator.base_channels': 2,
        'model.inner_loop.steps': 1,
        'train_cfg.max_iters': 1,
        'train_dataloader.batch_size': 2,
        'custom_hooks': [],
        'default_hooks.checkpoint': None
    }
    if algorithm is not None:
        options.update({
            'model.algorithm': algorithm,
            'train_dataloader.dataset.k_shot': 2,
            'train_dataloader.dataset.num_query': 2
        })
    learns_rates = algorithm is not None and algorithm['type'] == 'MetaSGD'
    if learns_rates:
        options['optim_wrapper.inner_rates'] = dict(
            optimizer=dict(type='Adam', lr=1e-5))
    before, model, _ = train_in_process(config, tmp_path, options)
    name = 'Reptile' if algorithm is None else algorithm['type']
    assert type(model.algorithm).__name__ == name
    assert model.algorithm.second_order == (algorithm is not None)
    assert_trained(before, model)
    if learns_rates:
        assert_trained(before, model, ('inner_rates.', ))
    shots = torch.rand(3, 1, 32, 32) * 2 - 1
    assert model.generate_adapted(shots, 2).shape == (2, 1, 32, 32)
