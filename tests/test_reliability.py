"""Runs survive faults: damaged checkpoints, a full disk, preemption."""
import errno
import multiprocessing as mp
import os
import signal
import subprocess
import sys

import pytest
import torch
from training_helpers import (CONFIG, REPO_ROOT, TINY, _free_port,
                              assert_same_weights, train, weights)

from metagan_mm.checkpoint import (AtomicLocalBackend, CheckpointSaveError,
                                   load_checkpoint_file)

pytestmark = pytest.mark.slow  # training runs, signals, subprocesses


def truncate(path, keep=0.5):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def test_resume_skips_a_truncated_last_checkpoint(tmp_path):
    train(tmp_path / 'full', max_iters=4)
    cut = tmp_path / 'cut'
    train(cut, max_iters=4)  # iter_2.pth, iter_4.pth
    assert (cut / 'last_checkpoint').read_text().endswith('iter_4.pth')
    truncate(cut / 'iter_4.pth')  # as a kill during the save leaves it
    proc = train(cut, max_iters=4, resume=True)
    log = proc.stdout + proc.stderr
    assert f'cannot resume from {cut / "iter_4.pth"}' in log
    assert f'Resuming from {cut / "iter_2.pth"}' in log
    assert 'resumed epoch: 0, iter: 2' in log
    _, full_w = weights(tmp_path / 'full' / 'iter_4.pth')
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
    'signum', [signal.SIGTERM, signal.SIGUSR1], ids=['SIGTERM', 'SIGUSR1'])
def test_preemption_signal_saves_and_resume_equals_uninterrupted(
        tmp_path, signum):
    max_iters = 8
    train(
        tmp_path / 'full',
        'default_hooks.checkpoint.interval=100',
        max_iters=max_iters)
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
    _, full_w = weights(tmp_path / 'full' / f'iter_{max_iters}.pth')
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
