"""Runs survive faults: damaged checkpoints, a full disk, preemption."""
import errno
import multiprocessing as mp
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from training_helpers import (CONFIG, REPO_ROOT, TINY, _free_port, _run,
                              assert_same_weights, stopped_at, train, weights)

from metagan_mm.checkpoint import (AtomicLocalBackend, CheckpointSaveError,
                                   load_checkpoint_file)

pytestmark = pytest.mark.slow  # training runs, signals, subprocesses


def truncate(path, keep=0.5):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def test_resume_skips_a_truncated_last_checkpoint(tmp_path, uninterrupted):
    full = uninterrupted(4)
    cut = tmp_path / 'cut'
    for iteration in (2, 4):  # as the run left them
        stopped_at(full, iteration, cut)
    assert (cut / 'last_checkpoint').read_text().endswith('iter_4.pth')
    truncate(cut / 'iter_4.pth')  # as a kill during the save leaves it
    proc = train(cut, max_iters=4, resume=True)
    log = proc.stdout + proc.stderr
    assert f'cannot resume from {cut / "iter_4.pth"}' in log
    assert f'Resuming from {cut / "iter_2.pth"}' in log
    assert 'resumed epoch: 0, iter: 2' in log
    _, full_w = weights(full / 'iter_4.pth')
    _, cut_w = weights(cut / 'iter_4.pth')
    assert_same_weights(full_w, cut_w, atol=1e-6)


def test_resume_with_no_readable_checkpoint_lists_what_was_tried(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    for name in ('iter_2.pth', 'iter_4.pth'):
        (work / name).write_bytes(b'PK\x03\x04 not a whole zip')
    (work / 'last_checkpoint').write_text(str(work / 'iter_4.pth'))
    proc = subprocess.run([
        sys.executable, 'tools/train.py', CONFIG, '--work-dir',
        str(work), '--resume'
    ],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT,
                          timeout=300)
    assert proc.returncode == 1
    err = proc.stderr
    assert 'found no readable checkpoint' in err
    assert err.index('iter_4.pth') < err.index('iter_2.pth')  # newest first
    assert 'Traceback' not in err


def test_atomic_backend_leaves_nothing_partial(tmp_path, monkeypatch):
    path = tmp_path / 'iter_4.pth'
    path.write_bytes(b'old')
    backend = AtomicLocalBackend()
    backend.put(b'new', path)
    assert path.read_bytes() == b'new'

    def full_disk(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full_disk)
    with pytest.raises(CheckpointSaveError) as info:
        backend.put(b'newer', path)
    assert 'No space left on device' in str(info.value)
    assert 'intact' in str(info.value) and '--resume' in str(info.value)
    assert path.read_bytes() == b'new'
    assert os.listdir(tmp_path) == ['iter_4.pth']  # no temporary file left


def test_disk_full_during_training_keeps_earlier_checkpoints(
        tmp_path, monkeypatch, capsys, tool):
    real_fsync, calls = os.fsync, []

    def fsync(fd):  # the second checkpoint does not fit on the disk
        if '.pth.tmp-' in os.readlink(f'/proc/self/fd/{fd}'):
            calls.append(fd)
            if len(calls) == 2:
                raise OSError(errno.ENOSPC, 'No space left on device')
        real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', fsync)
    work = tmp_path / 'work'
    with pytest.raises(SystemExit) as info:
        tool('train').main([
            CONFIG, '--work-dir',
            str(work), '--cfg-options', *TINY, 'train_cfg.max_iters=4',
            'train_dataloader.batch_size=2'
        ])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert 'CheckpointSaveError' in err and 'No space left' in err
    assert sorted(f for f in os.listdir(work) if '.pth' in f) == ['iter_2.pth']
    assert load_checkpoint_file(str(work / 'iter_2.pth'))['meta']['iter'] == 2
    assert (work / 'last_checkpoint').read_text().endswith('iter_2.pth')


def _start(work_dir, max_iters):
    args = [
        sys.executable, 'tools/train.py', CONFIG, '--work-dir',
        str(work_dir), '--cfg-options', *TINY,
        f'train_cfg.max_iters={max_iters}', 'train_dataloader.batch_size=4',
        'default_hooks.checkpoint.interval=100'
    ]
    return subprocess.Popen(
        args,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS='1'))


def _signal_mid_run(proc, signum):
    """Send ``signum`` once the first meta-iteration was logged."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if 'Iter(train) [1/' in line:
            proc.send_signal(signum)
            break
    rest, _ = proc.communicate(timeout=300)
    return ''.join(lines) + rest


@pytest.mark.parametrize(
    'signum', [
        signal.SIGTERM, signal.SIGUSR1,
        pytest.param(signal.SIGINT, marks=pytest.mark.slow)
    ],
    ids=['SIGTERM', 'SIGUSR1', 'SIGINT'])
def test_preemption_signal_saves_and_resume_equals_uninterrupted(
        tmp_path, uninterrupted, signum):
    max_iters = 8
    full = uninterrupted(max_iters, 'default_hooks.checkpoint.interval=100')
    cut = tmp_path / 'cut'
    proc = _start(cut, max_iters)
    log = _signal_mid_run(proc, signum)
    assert proc.returncode == 128 + signum, log[-3000:]
    name = signal.Signals(signum).name
    stop = [
        line for line in log.splitlines()
        if f'Stopped by {name} after meta-iteration' in line
    ]
    assert len(stop) == 1, log[-3000:]
    step = int(stop[0].split('meta-iteration ')[1].split(':')[0])
    assert 1 <= step < max_iters
    saved = load_checkpoint_file(str(cut / f'iter_{step}.pth'))
    assert saved['meta']['iter'] == step
    assert (cut / 'last_checkpoint').read_text().endswith(f'iter_{step}.pth')
    proc = train(
        cut,
        'default_hooks.checkpoint.interval=100',
        max_iters=max_iters,
        resume=True)
    assert f'resumed epoch: 0, iter: {step}' in proc.stdout + proc.stderr
    _, full_w = weights(full / f'iter_{max_iters}.pth')
    _, cut_w = weights(cut / f'iter_{max_iters}.pth')
    assert_same_weights(full_w, cut_w, atol=1e-6)


def _agree_worker(rank, port, received, queue):
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE='2',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port))
    from mmengine import dist

    import metagan_mm  # noqa: F401
    from metagan_mm.engine.runner import MetaIterBasedTrainLoop
    dist.init_dist('pytorch', backend='gloo')
    loop = MetaIterBasedTrainLoop.__new__(MetaIterBasedTrainLoop)
    loop._received = received
    queue.put((rank, loop._agreed_signal()))
    torch.distributed.destroy_process_group()


def test_ranks_agree_on_a_signal_only_one_received():
    ctx = mp.get_context('spawn')
    queue, port = ctx.Queue(), _free_port()
    procs = [
        ctx.Process(target=_agree_worker, args=(rank, port, received, queue))
        for rank, received in ((0, None), (1, int(signal.SIGTERM)))
    ]
    for proc in procs:
        proc.start()
    results = dict(queue.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join(timeout=60)
    assert results == {0: int(signal.SIGTERM), 1: int(signal.SIGTERM)}


SECOND_SIGNAL = """
import os, signal, threading
import metagan_mm
from metagan_mm.engine.runner import MetaIterBasedTrainLoop
loop = MetaIterBasedTrainLoop.__new__(MetaIterBasedTrainLoop)
loop._catch_preemption()
os.kill(os.getpid(), signal.SIGUSR1)
print('first signal noted:', loop._received, flush=True)
os.kill(os.getpid(), signal.SIGUSR1)
print('still running after the second', flush=True)
"""


def test_second_signal_ends_the_process_at_once():
    proc = subprocess.run([sys.executable, '-c', SECOND_SIGNAL],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT,
                          timeout=300)
    assert f'first signal noted: {int(signal.SIGUSR1)}' in proc.stdout
    assert 'still running' not in proc.stdout
    assert proc.returncode == -signal.SIGUSR1


def _loader_worker(running, ready):
    from metagan_mm.engine.runner.meta_train_loop import \
        WorkersIgnorePreemption
    WorkersIgnorePreemption(None, running)(0)
    ready.set()
    time.sleep(60)


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGUSR1])
def test_loader_workers_ignore_preemption_only_while_the_loop_runs(signum):
    """A worker ignoring SIGTERM outside a run made the process wait for it
    forever at exit (the test suite hung after passing): multiprocessing
    ends daemon workers with SIGTERM."""
    ctx = mp.get_context('fork')
    running, ready = ctx.RawValue('b', 1), ctx.Event()
    worker = ctx.Process(
        target=_loader_worker, args=(running, ready), daemon=True)
    worker.start()
    try:
        assert ready.wait(30)
        os.kill(worker.pid, signum)
        worker.join(1)
        assert worker.is_alive()  # the loop runs: ignored
        running.value = 0
        os.kill(worker.pid, signum)
        worker.join(30)
        assert worker.exitcode == -signum
    finally:
        if worker.is_alive():
            worker.kill()


class _StuckAfterFirst(torch.utils.data.Dataset):
    """Item 0 at once; every later item never comes (a worker that cannot
    finish when asked to)."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        if index > 0:
            time.sleep(3600)
        return torch.zeros(1)


@pytest.mark.slow
def test_a_stuck_loader_worker_does_not_outlive_the_loop():
    """After the run, torch's last resort for a worker that does not finish
    (``terminate()``, a SIGTERM) works: the workers no longer ignore it."""
    from mmengine.runner.loops import _InfiniteDataloaderIterator

    from metagan_mm.engine.runner import MetaIterBasedTrainLoop
    from metagan_mm.engine.runner.meta_train_loop import \
        WorkersIgnorePreemption
    loop = MetaIterBasedTrainLoop.__new__(MetaIterBasedTrainLoop)
    loop.running = mp.RawValue('b', 0)  # as run() leaves it
    loader = torch.utils.data.DataLoader(
        _StuckAfterFirst(),
        num_workers=1,
        worker_init_fn=WorkersIgnorePreemption(None, loop.running))
    loop.dataloader_iterator = _InfiniteDataloaderIterator(loader)
    next(loop.dataloader_iterator)
    workers = list(loop.dataloader_iterator._iterator._workers)
    try:
        loop._end_workers()
        assert [w.is_alive() for w in workers] == [False]
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()


@pytest.mark.slow
def test_a_train_loop_built_but_not_run_lets_the_process_exit(tmp_path):
    """``runner.iter`` in a test run builds the train loop, whose loader
    starts its workers at once; the process then hung at exit."""
    script = (
        'import sys; '
        'from metagan_mm.utils.runner_setup import build_runner; '
        f'r = build_runner({CONFIG!r}, work_dir=sys.argv[1], cfg_options='
        '{"train_dataloader.num_workers": 2, '
        '"train_dataloader.persistent_workers": True}); '
        'assert r.train_loop.dataloader.num_workers == 2; print("built")')
    proc = _run([sys.executable, '-c', script, str(tmp_path)], timeout=120)
    assert 'built' in proc.stdout


# ---------------------------------------------------- preemption of a group
def _start_group(work_dir, max_iters, workers):
    """tools/train.py as its own process group (as a SLURM step or a shell
    job is), its data loader with ``workers`` processes."""
    args = [
        sys.executable, 'tools/train.py', CONFIG, '--work-dir',
        str(work_dir), '--cfg-options', *TINY,
        f'train_cfg.max_iters={max_iters}', 'train_dataloader.batch_size=4',
        'default_hooks.checkpoint.interval=100',
        f'train_dataloader.num_workers={workers}'
    ]
    return subprocess.Popen(
        args,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env=dict(os.environ, OMP_NUM_THREADS='1'))


def _signal_group_mid_run(proc, signum):
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if 'Iter(train) [1/' in line:
                os.killpg(proc.pid, signum)  # every process: main, workers
                break
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # a hang: end the group, then fail
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return ''.join(lines) + rest


@pytest.mark.slow
@pytest.mark.parametrize(
    'signum', [signal.SIGTERM, signal.SIGUSR1, signal.SIGINT],
    ids=['SIGTERM', 'SIGUSR1', 'SIGINT'])
def test_group_signal_with_loader_workers_saves_a_checkpoint(tmp_path, signum):
    max_iters = 6
    cut = tmp_path / 'cut'
    proc = _start_group(cut, max_iters, workers=2)
    log = _signal_group_mid_run(proc, signum)
    assert proc.returncode == 128 + signum, log[-3000:]
    assert 'Traceback' not in log and 'KeyboardInterrupt' not in log
    stop = [line for line in log.splitlines() if 'Stopped by' in line]
    assert len(stop) == 1, log[-3000:]
    step = int(stop[0].split('meta-iteration ')[1].split(':')[0])
    path = cut / f'iter_{step}.pth'
    assert (f'checkpoint {path} saved. Continue with: python tools/train.py '
            f'{CONFIG} --work-dir {cut} --resume') in stop[0]
    assert load_checkpoint_file(str(path))['meta']['iter'] == step
    if signum == signal.SIGINT:  # and the resumed run equals an unbroken one
        train(
            tmp_path / 'full',
            'default_hooks.checkpoint.interval=100',
            'train_dataloader.num_workers=2',
            max_iters=max_iters)
        train(
            cut,
            'default_hooks.checkpoint.interval=100',
            'train_dataloader.num_workers=2',
            max_iters=max_iters,
            resume=True)
        _, full_w = weights(tmp_path / 'full' / f'iter_{max_iters}.pth')
        _, cut_w = weights(cut / f'iter_{max_iters}.pth')
        assert_same_weights(full_w, cut_w, atol=1e-6)


# ------------------------------------------------------------ strict resume
def _checkpoint_of(path,
                   experiment='reptile_ln-dcgan-quarter_1xb4-'
                   '600iters_glyphs-32x32_20261205_010000',
                   **model_options):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from metagan_mm.registry import MODELS
    cfg = Config.fromfile(CONFIG)
    cfg.model.update(model_options)
    init_default_scope('mmagic')
    state = MODELS.build(cfg.model).state_dict() if model_options else {}
    torch.save(
        {
            'meta': {
                'iter': 2,
                'experiment_name': experiment
            },
            'state_dict': state
        }, path)
    return str(path)


QUICK_START = ('configs/reptile/'
               'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')


def test_resume_from_a_checkpoint_without_weights_is_refused(
        tmp_path, capsys, tool):
    work = tmp_path / 'work'
    work.mkdir()
    _checkpoint_of(work / 'iter_2.pth')
    with pytest.raises(SystemExit) as info:
        tool('train').main([CONFIG, '--work-dir', str(work), '--resume'])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert 'holds no model weights' in err
    assert f'trained with the config {QUICK_START}' in err
    assert [f for f in os.listdir(work) if '.pth' in f] == ['iter_2.pth']


@pytest.mark.parametrize('how', ['resume', 'load_from'])
def test_checkpoint_of_another_width_names_shapes_and_config(
        tmp_path, capsys, tool, how):
    path = _checkpoint_of(
        tmp_path / 'other.pth',
        generator=dict(base_channels=8),
        discriminator=dict(base_channels=8))
    args = [CONFIG, '--work-dir', str(tmp_path / 'w')]
    args += ['--resume', path] if how == 'resume' else []
    args += ['--cfg-options', 'train_cfg.max_iters=1'
             ] + ([f'load_from={path}'] if how == 'load_from' else [])
    with pytest.raises(SystemExit):
        tool('train').main(args)
    # the tool's own lines: in the whole suite, loggers of earlier
    # in-process runs can print to this stderr too
    err = '\n'.join(line for line in capsys.readouterr().err.splitlines()
                    if line.startswith('train: '))
    assert 'CheckpointMismatchError' in err and 'other shapes' in err
    assert '(checkpoint vs model)' in err and QUICK_START in err
    assert 'Adam' not in err and 'exp_avg' not in err


def test_meta_sgd_starts_from_a_checkpoint_without_inner_rates(tmp_path):
    """``load_from`` a checkpoint of the same nets trained without Meta-SGD
    (MAML, plain): the nets load, the inner rates start from the config.
    Resuming from it is refused: a resumed run must hold every weight."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from metagan_mm.checkpoint import CheckpointMismatchError
    from metagan_mm.registry import MODELS
    from metagan_mm.utils.runner_setup import build_runner
    config = osp.join(
        REPO_ROOT, 'configs', 'meta-sgd',
        'meta-sgd_ln-dcgan-quarter_1xb4-200iters_glyphs-32x32.py')
    cfg = Config.fromfile(config)
    init_default_scope('mmagic')
    torch.manual_seed(1)
    state = {
        k: v
        for k, v in MODELS.build(cfg.model).state_dict().items()
        if not k.startswith('inner_rates.')
    }
    path = str(tmp_path / 'maml.pth')
    torch.save({'meta': {'iter': 5}, 'state_dict': state}, path)
    runner = build_runner(
        config, work_dir=str(tmp_path / 'w'), cfg_options={'load_from': path})
    runner.load_or_resume()
    model = runner.model
    for k, v in state.items():
        assert torch.equal(model.state_dict()[k], v), k
    rates = dict(model.inner_rates.named_parameters())
    assert rates and all(
        torch.allclose(r, torch.full_like(r, cfg.model.inner_loop.g_lr))
        for k, r in rates.items() if k.startswith('g.'))
    with pytest.raises(
            CheckpointMismatchError, match='missing from it: inner_rates.d.'):
        build_runner(config, work_dir=str(tmp_path / 'r'), resume=path)


def test_resume_with_nothing_to_resume_says_so(tmp_path, monkeypatch):
    from metagan_mm.utils import runner_setup
    said = []
    monkeypatch.setattr(runner_setup, 'print_log',
                        lambda msg, **kwargs: said.append(msg))
    runner = runner_setup.build_runner(
        CONFIG, work_dir=str(tmp_path / 'typo'), resume='auto')
    assert len(said) == 1
    assert f'work dir {tmp_path / "typo"} does not exist' in said[0]
    assert 'nothing to resume' in said[0] and 'check --work-dir' in said[0]
    assert not runner._resume and runner._load_from is None


def test_copied_work_dir_resumes_its_own_checkpoint(tmp_path):
    import shutil

    from metagan_mm.checkpoint.resume import resume_candidates
    first = tmp_path / 'first'
    first.mkdir()
    for name in ('iter_2.pth', 'iter_4.pth'):
        (first / name).write_bytes(b'x')
    (first / 'last_checkpoint').write_text(str(first / 'iter_4.pth'))
    copy = tmp_path / 'copy'
    shutil.copytree(first, copy)
    assert resume_candidates(
        str(copy)) == [str(copy / 'iter_4.pth'),
                       str(copy / 'iter_2.pth')]


# ------------------------------------------------------- one run per work dir
def test_second_run_in_a_work_dir_is_refused(tmp_path, capsys, tool):
    from metagan_mm.utils.work_dir import work_dir_lock
    work = tmp_path / 'work'
    with work_dir_lock(str(work)):  # a run holds it
        with pytest.raises(SystemExit) as info:
            tool('train').main([CONFIG, '--work-dir', str(work)])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert f'work dir {work} is in use by another training run (pid ' \
        f'{os.getpid()} on' in err
    assert '--ignore-lock' in err and 'another --work-dir' in err
    assert os.listdir(work) == ['.train.lock']  # nothing of the second run
    with work_dir_lock(str(work)):  # released when the run ended
        pass


def test_lock_of_a_killed_run_does_not_block(tmp_path):
    from metagan_mm.utils.work_dir import LOCK_NAME, work_dir_lock
    work = tmp_path / 'work'
    work.mkdir()
    holder = subprocess.Popen([
        sys.executable, '-c', 'import fcntl, os, time; '
        f'fd = os.open({str(work / LOCK_NAME)!r}, os.O_RDWR | os.O_CREAT); '
        'fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b"pid 1"); '
        'print("held", flush=True); time.sleep(300)'
    ],
                              stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == 'held'
    with pytest.raises(RuntimeError, match='in use by another'):
        with work_dir_lock(str(work)):
            pass
    holder.kill()  # SIGKILL: no clean-up; the lock file stays
    holder.wait()
    assert (work / LOCK_NAME).exists()
    with work_dir_lock(str(work)):
        assert (work /
                LOCK_NAME).read_text().startswith(f'pid {os.getpid()} on')


@pytest.mark.parametrize(
    'code, says',
    [(errno.EROFS, 'it is read-only or not yours: pass --work-dir with a '
      'writable folder'),
     (errno.ENOSPC, 'the disk is full: free space there (the checkpoints '
      'written so far are intact) and run again, with --resume')],
    ids=['read-only', 'full'])
def test_unwritable_work_dir_gets_a_clear_message(tmp_path, monkeypatch,
                                                  capsys, tool, code, says):
    from metagan_mm.utils import work_dir

    class Disk:

        def __getattr__(self, name):
            return getattr(os, name)

        def open(self, path, *args):
            raise OSError(code, os.strerror(code), path)

    monkeypatch.setattr(work_dir, 'os', Disk())
    with pytest.raises(SystemExit) as info:
        tool('train').main([CONFIG, '--work-dir', str(tmp_path / 'w')])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert (f'cannot write into the work dir {tmp_path / "w"} '
            f'({os.strerror(code)}): {says}') in err
    assert 'Traceback' not in err


def test_full_disk_elsewhere_gets_the_hint(capsys):
    from metagan_mm.utils.cli import friendly_errors
    with pytest.raises(SystemExit):
        with friendly_errors('generate'):
            raise OSError(errno.ENOSPC, 'No space left on device', 'out/x.png')
    err = capsys.readouterr().err
    assert 'generate: hint: The disk is full: free space and run again' in err


# ------------------------------------------------------------ atomic files
def test_feature_net_save_keeps_the_old_file_on_a_full_disk(
        tmp_path, monkeypatch):
    from metagan_mm.checkpoint import AtomicWriteError
    from metagan_mm.evaluation.feature_nets import DomainFeatureExtractor
    path = str(tmp_path / 'glyphs_domain_32x32.pth')
    net = DomainFeatureExtractor(channels=(4, ), feat_dim=4, num_classes=2)
    net.save(path, val_accuracy=0.5)
    net.feature_scale.fill_(3.0)

    def full_disk(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full_disk)
    with pytest.raises(AtomicWriteError, match='No space left on device'):
        net.save(path, val_accuracy=0.9)
    kept = DomainFeatureExtractor(checkpoint=path)
    assert kept.meta['val_accuracy'] == 0.5
    assert float(kept.feature_scale) == 1.0
    assert os.listdir(tmp_path) == ['glyphs_domain_32x32.pth']


# ----------------------------------------------------------- clear messages
@pytest.mark.parametrize('option, value, message',
                         [('--num', '-3', 'must be at least 1, got -3'),
                          ('--num', '0', 'must be at least 1, got 0'),
                          ('--k', '0', 'must be at least 1, got 0'),
                          ('--steps', '-1', 'must be at least 0, got -1'),
                          ('--num', 'many', "'many' is not a whole number")])
def test_generate_argument_ranges(tool, capsys, option, value, message):
    with pytest.raises(SystemExit) as info:
        tool('generate').parse_args(
            [CONFIG, 'c.pth', '--shots-dir', 'd', '--out', 'o', option, value])
    assert info.value.code == 2
    assert f'argument {option}: {message}' in capsys.readouterr().err


def test_rgba_shot_is_reported_as_rgba(tmp_path):
    from PIL import Image

    from metagan_mm.apis import read_shots
    from metagan_mm.apis.fewshot_generation import ShotImageError
    shot = str(tmp_path / 'shot.png')
    Image.new('RGBA', (32, 32), (255, 0, 0, 128)).save(shot)
    with pytest.raises(ShotImageError) as info:
        read_shots([shot], (1, 32, 32))
    assert ('has 4 channels (RGBA: RGB and alpha, which is dropped) but the '
            'model makes 1-channel images') in str(info.value)
