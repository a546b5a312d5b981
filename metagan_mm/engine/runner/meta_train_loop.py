"""Meta-training loop: mmengine's iteration loop with a cheap, exact resume
and a clean stop on preemption signals."""
import functools
import multiprocessing
import os
import os.path as osp
import signal
import sys
import threading
from typing import Any, Callable, Dict, Iterator, Optional, Union

import torch
from mmengine import dist
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import DataLoader

from metagan_mm.checkpoint import ATOMIC_BACKEND_ARGS
from metagan_mm.registry import LOOPS

#: MessageHub runtime-info key holding how many global tasks were consumed.
TASKS_CONSUMED_KEY = 'episodic_tasks_consumed'
#: Signals that stop training cleanly (when the platform has them): what
#: schedulers send, SLURM's warning before the time limit, and Ctrl-C.
PREEMPTION_SIGNALS = ('SIGTERM', 'SIGUSR1', 'SIGINT')


def _preemption_signals() -> list:
    return [
        getattr(signal, name) for name in PREEMPTION_SIGNALS
        if hasattr(signal, name)
    ]


class WorkersIgnorePreemption:
    """A data-loader ``worker_init_fn`` that makes the worker ignore the
    preemption signals while the loop runs, then runs the loader's own
    ``worker_init_fn``.

    Schedulers and Ctrl-C signal the whole process group.  Workers that died
    of the signal would make torch raise in the main process (inside the
    checkpoint save); ignoring it, they serve the batches the main process
    still needs.

    Outside :meth:`MetaIterBasedTrainLoop.run` (a loop built but never run,
    or after it ended) a signal has its usual effect: ``multiprocessing``
    ends daemon workers at interpreter exit with ``SIGTERM``, and torch
    ends a worker that does not finish the same way; a worker ignoring it
    would make the process wait for it forever.

    Args:
        init_fn (callable, optional): The loader's ``worker_init_fn``.
        running (ctypes.c_byte): A shared flag
            (``multiprocessing.RawValue``), true while the loop runs.
    """

    def __init__(self, init_fn: Optional[Callable[[int], Any]],
                 running: Any) -> None:
        self.init_fn = init_fn
        self.running = running

    def __call__(self, worker_id: int) -> None:
        for signum in _preemption_signals():
            signal.signal(
                signum,
                functools.partial(_ignore_while_running, self.running,
                                  signal.getsignal(signum)))
        if self.init_fn is not None:
            self.init_fn(worker_id)


def _ignore_while_running(running: Any, previous: Any, signum: int,
                          frame: Any) -> None:
    """A worker's signal handler: nothing while the loop runs, else what
    the worker did before (:class:`WorkersIgnorePreemption`)."""
    if running.value:
        return
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:  # SIG_DFL, or None: not set by Python
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


class _SkipIterator:
    """Answer the first ``skip`` ``next()`` calls with ``None``, unloaded."""

    def __init__(self, iterator: Iterator, skip: int) -> None:
        self.iterator = iterator
        self.skip = skip

    def __iter__(self) -> '_SkipIterator':
        return self

    def __next__(self) -> Any:
        if self.skip > 0:
            self.skip -= 1
            return None
        return next(self.iterator)


@LOOPS.register_module()
class MetaIterBasedTrainLoop(IterBasedTrainLoop):
    """One iteration = one meta-iteration over a meta-batch of tasks.

    Everything is :class:`mmengine.runner.IterBasedTrainLoop` (hooks, logging,
    validation interval, checkpoints); the model's ``train_step`` does the
    meta-update.  What this subclass adds is the resume: mmengine's loop
    *loads and discards* one batch per finished iteration to advance the
    sampler, which for meta-batches of tasks costs as much as the data time
    of the whole run so far.  Here, when the sampler is an episodic task
    sampler (has ``set_start``), the loop moves the sampler straight to
    the first unseen task, whose index is kept in the
    :class:`~mmengine.logging.MessageHub` runtime info
    (``episodic_tasks_consumed``; saved in every checkpoint), so a resumed
    run sees exactly the task sequence an uninterrupted run would, even
    with a different number of ranks.

    Preemption: on ``SIGTERM`` (what cluster schedulers send), ``SIGUSR1``
    (SLURM's warning before the time limit) or ``SIGINT`` (Ctrl-C), sent to
    the main process alone or to its whole process group, the loop finishes
    the current meta-iteration, saves a checkpoint through the config's
    ``CheckpointHook`` (unless it just saved one), logs one line naming the
    checkpoint and the command that resumes, and stops; ``tools/train.py``
    then exits with ``128 + signal``.  While the loop runs, data-loader
    workers ignore these signals (:class:`WorkersIgnorePreemption`).  All
    ranks agree on the flag after every meta-iteration, so they stop at the
    same one.  A second signal of the same kind ends the process at once.
    """

    #: The signal that stopped training, if one did.
    stopped_by_signal: Optional[int] = None
    _received: Optional[int] = None

    def __init__(self, runner: Any, dataloader: Union[DataLoader, dict], *args:
                 Any, **kwargs: Any) -> None:
        if isinstance(dataloader, dict):  # built here to set up its workers
            dataloader = runner.build_dataloader(
                dataloader,
                seed=runner.seed,
                diff_rank_seed=runner._randomness_cfg.get(
                    'diff_rank_seed', False))
        #: True while :meth:`run` runs: the workers ignore preemption then.
        self.running = multiprocessing.RawValue('b', 0)
        if dataloader.num_workers > 0:
            dataloader.worker_init_fn = WorkersIgnorePreemption(
                dataloader.worker_init_fn, self.running)
        super().__init__(runner, dataloader, *args, **kwargs)

    def _sampler(self) -> Optional[Any]:
        sampler = getattr(self.dataloader, 'sampler', None)
        return sampler if hasattr(sampler, 'set_start') else None

    def _tasks_per_iter(self) -> int:
        return int(self.dataloader.batch_size) * dist.get_world_size()

    def run(self) -> None:
        """Fast-forward the task sampler on resume, then run as usual."""
        sampler = self._sampler()
        if self._iter > 0 and sampler is not None:
            hub = self.runner.message_hub
            consumed = hub.get_info(TASKS_CONSUMED_KEY)
            if consumed is None:
                consumed = self._iter * self._tasks_per_iter()
            sampler.set_start(int(consumed))
            print_log(
                f'Resuming the task sampler at global task {consumed} '
                f'(iteration {self._iter}) without loading skipped tasks.',
                logger='current')
            self.dataloader_iterator = _SkipIterator(
                _InfiniteDataloaderIterator(self.dataloader), self._iter)
        previous = self._catch_preemption()
        self.running.value = 1
        try:
            super().run()
        finally:
            self.running.value = 0
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._end_workers()

    def run_iter(self, data_batch: Any) -> None:
        """Record the tasks of this batch as consumed, then run it.

        The count is updated first so that the checkpoint the
        ``after_train_iter`` hooks save already includes this batch.
        """
        hub = self.runner.message_hub
        consumed = hub.get_info(TASKS_CONSUMED_KEY)
        if consumed is None:
            consumed = self._iter * self._tasks_per_iter()
        hub.update_info(TASKS_CONSUMED_KEY,
                        int(consumed) + self._tasks_per_iter())
        super().run_iter(data_batch)
        signum = self._agreed_signal()
        if signum:
            self._save_and_stop(signum)

    # ------------------------------------------------------------ preemption
    def _end_workers(self) -> None:
        """Shut the data-loader workers down when the run ends, however it
        ended, as torch does when the iterator is deleted: at interpreter
        exit ``multiprocessing`` would kill them instead, and torch's child
        handler would raise in the main process."""
        iterator = self.dataloader_iterator
        iterator = getattr(iterator, 'iterator', iterator)  # _SkipIterator
        loader_iter = getattr(iterator, '_iterator', None)  # mmengine's
        shutdown = getattr(loader_iter, '_shutdown_workers', None)
        if shutdown is not None:
            shutdown()

    def _catch_preemption(self) -> Dict[int, Any]:
        """Install the handlers (main thread only); return the old ones."""
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {
            signum: signal.signal(signum, self._on_signal)
            for signum in _preemption_signals()
        }

    def _on_signal(self, signum: int, frame: Any) -> None:
        """Remember the signal; a second one of its kind ends the process."""
        if self._received == signum:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        self._received = signum
        sys.stderr.write(
            f'\n{signal.Signals(signum).name} received: saving a checkpoint '
            'after this meta-iteration (send it again to stop at once).\n')

    def _agreed_signal(self) -> int:
        """The highest signal number any rank received (0: none)."""
        flag = torch.tensor([float(self._received or 0)])
        if dist.get_world_size() > 1:
            dist.all_reduce(flag, op='max')
        return int(flag.item())

    def _save_and_stop(self, signum: int) -> None:
        """Checkpoint the finished meta-iterations and stop the loop."""
        runner, step = self.runner, self._iter
        hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)),
                    None)
        name = hook.filename_tmpl.format(step) if hook else f'iter_{step}.pth'
        saved = runner.message_hub.get_info('last_ckpt') or ''
        if os.path.basename(saved) != name:
            meta = dict(epoch=runner.epoch, iter=step)
            if hook is not None:  # its bookkeeping: max_keep_ckpts, pointer
                hook._save_checkpoint_with_step(runner, step, meta)
            else:
                runner.save_checkpoint(
                    runner.work_dir,
                    name,
                    meta=meta,
                    backend_args=ATOMIC_BACKEND_ARGS)
        path = osp.join(hook.out_dir if hook else runner.work_dir, name)
        config = getattr(runner.cfg, 'filename', None) or 'CONFIG'
        self.stopped_by_signal = signum
        self.stop_training = True
        print_log(
            f'Stopped by {signal.Signals(signum).name} after meta-iteration '
            f'{step}: checkpoint {path} saved. Continue with: python '
            f'tools/train.py {config} --work-dir {runner.work_dir} --resume',
            logger='current')
