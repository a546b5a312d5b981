"""End-to-end training through tools/: resume and 2-rank gloo launches."""
import json
import os.path as osp
import sys

import pytest
from training_helpers import (COND_CONFIG, CONFIG, REPO_ROOT, TINY, _free_port,
                              _run, assert_same_weights, train, weights)

pytestmark = pytest.mark.slow  # tools/train.py runs, 1 and 2 ranks


@pytest.mark.parametrize(
    'config', [CONFIG, COND_CONFIG], ids=['reptile', 'conditioned-reptile'])
def test_resume_continues_at_saved_iteration_with_same_weights(
        tmp_path, uninterrupted, config):
    train(tmp_path / 'cut', max_iters=2, config=config)
    saved, saved_w = weights(tmp_path / 'cut' / 'iter_2.pth')
    assert saved['meta']['iter'] == 2
    if config == COND_CONFIG:
        assert any(k.startswith('encoder.') for k in saved_w)
    proc = train(tmp_path / 'cut', max_iters=4, resume=True, config=config)
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Resuming the task sampler at global task 8' in log
    # The run restarted from the saved weights: iteration 3 and 4 ran once
    # more from iter_2.pth and reach the uninterrupted run's weights.
    full, full_w = weights(uninterrupted(4, config=config) / 'iter_4.pth')
    cut, cut_w = weights(tmp_path / 'cut' / 'iter_4.pth')
    assert cut['meta']['iter'] == full['meta']['iter'] == 4
    assert_same_weights(full_w, cut_w, atol=1e-6)
    # ...and not the weights it was resumed from.
    diffs = [float((saved_w[k] - cut_w[k]).abs().max()) for k in saved_w]
    assert max(diffs) > 1e-4
    hub = cut['message_hub']['runtime_info']
    assert hub['episodic_tasks_consumed'] == 16


MAML_CONFIG = osp.join(REPO_ROOT, 'configs', 'maml',
                       'maml_ln-dcgan-quarter_1xb4-200iters_glyphs-32x32.py')


def consistency_config(tmp_path, base, outer_lr, inner_lr=0.01):
    """``base`` with a WeightsConsistencyHook that dumps per rank."""
    path = tmp_path / 'consistency.py'
    encoder = (",\n    encoder=dict(optimizer=dict(_delete_=True, "
               f"type='SGD', lr={outer_lr}))") if base == COND_CONFIG else ''
    # Plain SGD inner and outer steps: Adam's normalisation turns the
    # float-rounding differences of near-zero gradients (summation order
    # differs between 1 rank x 4 tasks and 2 ranks x 2 tasks) into
    # full-size steps.
    path.write_text(f"_base_ = [{base!r}]\n"
                    "custom_hooks = [dict(type='WeightsConsistencyHook', "
                    "interval=1, dump=True)]\n"
                    "optim_wrapper = dict(\n"
                    "    generator=dict(optimizer=dict(_delete_=True, "
                    f"type='SGD', lr={outer_lr})),\n"
                    "    discriminator=dict(optimizer=dict(_delete_=True, "
                    f"type='SGD', lr={outer_lr}))" + encoder + ")\n"
                    "model = dict(inner_loop=dict(optimizer='sgd', "
                    f"g_lr={inner_lr}, d_lr={inner_lr}))\n")
    return str(path)


@pytest.mark.parametrize(
    'base, outer_lr, inner_lr, atol', [(CONFIG, 0.5, 0.01, 1e-5),
                                       (MAML_CONFIG, 1e-3, 0.01, 1e-5),
                                       (COND_CONFIG, 0.05, 1e-3, 1e-4)],
    ids=['reptile', 'maml-second-order', 'conditioned-reptile'])
def test_two_rank_gloo_equals_one_rank_and_ranks_agree(tmp_path, base,
                                                       outer_lr, inner_lr,
                                                       atol):
    # conditioned: inner SGD at 1e-2 diverges, and with outer SGD at 0.5
    # the inner D loss grows 4 -> 130 -> 760 in three iterations, which
    # blows float rounding (1e-6 after two) up to 5e-4 in the third. At
    # these rates the largest difference (the projection weights, whose
    # meta-gradients are the largest) is 7e-6 after two iterations and
    # 4e-5 after three: summation order, not a sync bug (ranks agree
    # bitwise, and the relative check below holds).
    config = consistency_config(tmp_path, base, outer_lr, inner_lr)
    one = tmp_path / 'one'
    _run([
        sys.executable, 'tools/train.py', config, '--work-dir',
        str(one), '--cfg-options', *TINY[:1], *TINY[2:],
        'train_cfg.max_iters=3', 'train_dataloader.batch_size=4'
    ])
    two = tmp_path / 'two'
    args = [
        'bash', 'tools/dist_train.sh', config, '2', '--work-dir',
        str(two), '--cfg-options', *TINY[:1], *TINY[2:],
        'train_cfg.max_iters=3', 'train_dataloader.batch_size=2'
    ]
    proc = _run(
        args, env={
            'PORT': str(_free_port()),
            'PYTHON': sys.executable
        })
    assert 'Distributed launcher: pytorch' in proc.stdout + proc.stderr
    assert "'backend': 'nccl'" in proc.stdout + proc.stderr  # gloo on CPU
    rank0 = json.loads((two / 'weights_rank0.json').read_text())
    rank1 = json.loads((two / 'weights_rank1.json').read_text())
    assert rank0 == rank1  # bitwise identical meta-weights on both ranks
    _, w_one = weights(one / 'iter_3.pth')
    _, w_two = weights(two / 'iter_3.pth')
    assert_same_weights(w_one, w_two, atol=atol)
    single = json.loads((one / 'weights_rank0.json').read_text())
    assert max(
        abs(single[k] - rank0[k]) / (1 + abs(single[k]))
        for k in single) < 1e-4
