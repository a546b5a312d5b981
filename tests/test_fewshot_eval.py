"""Few-shot evaluation loop and tools/generate.py on a checkpoint made here."""
import contextlib
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from metagan_mm.checkpoint import load_checkpoint_file
from metagan_mm.utils.runner_setup import build_runner

pytestmark = pytest.mark.slow  # a trained checkpoint, test runs

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO_ROOT, 'configs', 'reptile',
                  'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')
NET_CONFIG = osp.join(REPO_ROOT, 'configs', '_base_', 'feature_nets',
                      'domain_classifier_train.py')


def _run(args, env=None):
    proc = subprocess.run(
        args,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=600,
        env=dict(os.environ, **(env or {})))
    return proc


def generate(tool, capsys, *argv):
    """``tools/generate.py CONFIG CKPT *argv`` as a user runs it, in this
    process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        tool('generate').main([CONFIG, *argv])
        code = 0
    except SystemExit as stop:
        code = stop.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A 2-iteration meta-GAN checkpoint and a small domain feature net."""
    work = tmp_path_factory.mktemp('eval')
    config = work / 'with_tensorboard.py'  # grids to local PNG and TensorBoard
    config.write_text(
        f"_base_ = [{CONFIG!r}]\n"
        "visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), "
        "dict(type='TensorboardVisBackend')])\n")
    # tools/train.py's runner, in this process
    build_runner(
        str(config),
        work_dir=str(work),
        cfg_options={
            'train_cfg.max_iters': 2,
            'model.inner_loop.steps': 2,
            'custom_hooks.0.interval': 1,
            'custom_hooks.0.num_classes': 3,
            'custom_hooks.0.num_samples': 5,
            'default_hooks.checkpoint.interval': 2
        }).train()
    from mmengine.config import Config

    from metagan_mm.evaluation.feature_nets import (feature_net_runner_cfg,
                                                    train_feature_extractor)
    cfg = Config.fromfile(CONFIG)
    fnet = train_feature_extractor(
        feature_net_runner_cfg(
            NET_CONFIG,
            cfg.train_dataloader.dataset.dataset.to_dict(),
            str(work / 'fnet.pth'),
            iters=20,
            seed=0))
    return dict(ckpt=str(work / 'iter_2.pth'), fnet=fnet, work=work)


def test_visualization_hook_writes_grids_to_every_backend(trained):
    work = trained['work']
    for step in (1, 2):
        grid = Image.open(work / 'samples' / f'fewshot_iter_{step}.png')
        # 3 classes x (support row + 1 row of 5 generations), 34 px a cell
        assert grid.size == (5 * 34 + 2, 3 * (2 * 34 + 2))
    runs = [d for d in os.listdir(work) if d[:8].isdigit()]
    vis = osp.join(work, runs[0], 'vis_data')
    assert any(
        f.startswith('fewshot_adapted_2')
        for f in os.listdir(osp.join(vis, 'vis_image')))
    assert any(f.startswith('events.out.tfevents') for f in os.listdir(vis))


@contextlib.contextmanager
def one_thread():
    """Torch on one thread, as the tools run in these tests
    (``OMP_NUM_THREADS=1``): the metrics depend on it at 1e-3."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def tested(trained):
    """The checkpoint tested in this process by ``tools/test.py``'s runner
    (8 generations per class, one thread): ``(runner, metrics)``."""
    with pytest.MonkeyPatch.context() as patch, one_thread():
        patch.setenv('METAGAN_FEATURE_NET', trained['fnet'])
        runner = build_runner(
            CONFIG,
            work_dir=str(trained['work'] / 'test'),
            cfg_options={'test_cfg.num_samples': 8},
            checkpoint=trained['ckpt'])
        return runner, runner.test()


def test_eval_loop_repeats_and_never_changes_meta_weights(
        trained, tested, monkeypatch):
    monkeypatch.setenv('METAGAN_FEATURE_NET', trained['fnet'])
    runner, first = tested
    model = runner.model.module if hasattr(runner.model,
                                           'module') else runner.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    saved = load_checkpoint_file(trained['ckpt'])['state_dict']
    for key, value in saved.items():  # the checkpoint was loaded ...
        assert torch.equal(before[key], value), key
    with one_thread():
        second = runner.test()
    for key, value in model.state_dict().items():  # ... and never changed
        assert torch.equal(value, before[key]), key
    assert first == second  # same checkpoint and seed: same numbers
    assert {
        'fewshot/fid', 'fewshot/kid', 'fewshot/fidelity', 'fewshot/diversity',
        'fewshot/diversity_real'
    } <= set(first)
    assert first['fewshot/fid'] > 0


def test_test_run_writes_the_grid_of_the_tested_checkpoint(
        trained, monkeypatch):
    monkeypatch.setenv('METAGAN_FEATURE_NET', trained['fnet'])
    grids = {}
    for steps in (1, 3):
        work = trained['work'] / f'test_grid_{steps}'
        runner = build_runner(
            CONFIG,
            work_dir=str(work),
            cfg_options={
                'test_cfg.num_samples': 4,
                'test_cfg.steps': steps
            },
            checkpoint=trained['ckpt'])
        runner.test()
        assert isinstance(runner._train_loop, dict)  # nor its loader built
        path = work / 'samples' / f'fewshot_test_steps{steps}.png'
        grids[steps] = np.asarray(Image.open(path))
        # the config's hook: 4 classes x (support row + 8 generations)
        assert grids[steps].shape[:2] == (4 * (2 * 34 + 2), 8 * 34 + 2)
        assert not (work / 'samples' / 'fewshot_iter_0.png').exists()
    assert not np.array_equal(grids[1], grids[3])  # the steps were used


def _png(path, array):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    Image.fromarray(array).save(path)
    return str(path)


def test_generate_writes_images_and_grid(trained, tmp_path, tool, capsys):
    rng = np.random.default_rng(0)
    shots = [
        _png(tmp_path / f's{i}.png',
             rng.integers(0, 255, (48, 48), dtype=np.uint8)) for i in range(3)
    ]
    out = tmp_path / 'out'
    code, stdout, stderr = generate(tool, capsys, trained['ckpt'],
                                    '--shots', *shots, '--num', '5', '--out',
                                    str(out), '--seed', '1', '--steps', '2')
    assert code == 0, stderr[-3000:]
    assert 'resized' in stdout and '48x48 to 32x32' in stdout
    files = sorted(os.listdir(out))
    assert files == [
        'generated_0000.png', 'generated_0001.png', 'generated_0002.png',
        'generated_0003.png', 'generated_0004.png', 'grid.png'
    ]
    assert Image.open(out / 'generated_0000.png').size == (32, 32)
    # support row + one row of 5 generations, 32 px + 2 px padding each
    assert Image.open(out / 'grid.png').size == (5 * 34 + 2, 2 * 34 + 2)
    again = tmp_path / 'again'
    assert generate(tool, capsys,
                    trained['ckpt'], '--shots', *shots, '--num', '5', '--out',
                    str(again), '--seed', '1', '--steps', '2')[0] == 0
    assert np.array_equal(
        np.asarray(Image.open(out / 'grid.png')),
        np.asarray(Image.open(again / 'grid.png')))


def test_generate_rejects_bad_shots_clearly(trained, tmp_path, tool, capsys):
    colour = _png(tmp_path / 'colour.png', np.zeros((32, 32, 3), np.uint8))
    broken = tmp_path / 'broken.png'
    broken.write_text('not an image')
    for shot, message in ((colour, 'has 3 channels (RGB)'),
                          (str(broken), 'cannot be read as an image'),
                          (str(tmp_path / 'missing.png'), 'does not exist')):
        code, _, stderr = generate(tool, capsys, trained['ckpt'], '--shots',
                                   shot, '--num', '2', '--out',
                                   str(tmp_path / 'o'))
        assert code == 1
        assert message in stderr
        assert 'Traceback' not in stderr


def test_generate_many_classes_skips_bad_ones_and_matches_one_class(
        trained, tmp_path, tool, capsys):
    from metagan_mm.apis import class_shot_paths
    root = tmp_path / 'shots'
    rng = np.random.default_rng(0)
    for name in ('a_good', 'c_good'):
        for i in range(5):
            _png(root / name / f'{i}.png',
                 rng.integers(0, 256, (32, 32), dtype=np.uint8))
    (root / 'b_bad').mkdir()
    (root / 'b_bad' / '0.png').write_text('not an image')
    (root / 'b_bad' / '1.png').write_text('not an image either')
    _png(root / 'd_few' / '0.png', np.zeros((32, 32), np.uint8))
    out = tmp_path / 'out'
    code, stdout, stderr = generate(tool,
                                    capsys, trained['ckpt'], '--shots-dir',
                                    str(root), '--k', '2', '--num', '3',
                                    '--out', str(out))
    assert code == 1, stderr[-3000:]
    assert '2 class(es) skipped' in stderr
    assert 'b_bad: shot image' in stderr and 'cannot be read' in stderr
    assert 'd_few:' in stderr and 'has 1 image(s) but 2' in stderr
    assert 'generated 3 images for each of 2 classes' in stdout
    assert sorted(os.listdir(out)) == ['a_good', 'c_good']
    assert sorted(os.listdir(out / 'c_good')) == [
        'generated_0000.png', 'generated_0001.png', 'generated_0002.png',
        'grid.png'
    ]
    # the same as one call with the same (seeded) shots
    shots = class_shot_paths(str(root / 'c_good'), k=2, seed=0)
    assert len(shots) == 2
    one = tmp_path / 'one'
    code, _, stderr = generate(tool, capsys, trained['ckpt'], '--shots',
                               *shots, '--num', '3', '--out', str(one))
    assert code == 0, stderr[-3000:]
    for name in ('generated_0002.png', 'grid.png'):
        assert np.array_equal(
            np.asarray(Image.open(one / name)),
            np.asarray(Image.open(out / 'c_good' / name)))


def test_fewshot_loops_report_their_length_to_mmagic_timer_hook():
    from metagan_mm.engine.runner.fewshot_loops import FewShotIterMixin

    loop = FewShotIterMixin.__new__(FewShotIterMixin)
    loop.dataloader = [0] * 10
    assert loop.total_length == 10


def test_visualization_hook_defaults_to_the_test_data_set():
    from types import SimpleNamespace

    from mmengine.config import Config

    from metagan_mm.engine.hooks import FewShotVisualizationHook
    hook = FewShotVisualizationHook()
    with pytest.raises(
            ValueError,
            match='no dataset given and the config '
            'has no test_dataloader.dataset'):
        hook.before_run(SimpleNamespace(cfg=Config()))
    pool = dict(type='EpisodicDataset', mode='eval', k_shot=10)
    hook.before_run(
        SimpleNamespace(cfg=Config(dict(test_dataloader=dict(dataset=pool)))))
    assert hook.dataset_cfg == pool


def _metrics(log):
    line = [ln for ln in log.splitlines() if 'Iter(test)' in ln][-1]
    pairs = line.split('Iter(test)')[1].split()[1:]
    return {
        k.rstrip(':'): float(v)
        for k, v in zip(pairs[::2], pairs[1::2]) if k.startswith('fewshot')
    }


def test_two_rank_evaluation_equals_one_rank(trained, tested, tmp_path):
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    env = {
        'METAGAN_FEATURE_NET': trained['fnet'],
        'PORT': str(port),
        'PYTHON': sys.executable,
        'OMP_NUM_THREADS': '1'
    }
    options = ['--cfg-options', 'test_cfg.num_samples=8']
    two = _run([
        'bash', 'tools/dist_test.sh', CONFIG, trained['ckpt'], '2',
        '--work-dir',
        str(tmp_path / 'two'), *options
    ],
               env=env)
    assert two.returncode == 0, two.stderr[-3000:]
    m1, m2 = tested[1], _metrics(two.stdout + two.stderr)  # m1: one rank
    assert {'fewshot/fid', 'fewshot/fidelity', 'fewshot/kid'} <= set(m1)
    for key in ('fewshot/fid', 'fewshot/fid_class_mean', 'fewshot/fidelity',
                'fewshot/diversity', 'fewshot/kid'):
        assert m2[key] == pytest.approx(m1[key], rel=1e-3, abs=1e-4), key
