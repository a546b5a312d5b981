"""Meta-training loop: mmengine's iteration loop with a cheap, exact resume."""
from typing import Any, Iterator, Optional

from mmengine import dist
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from metagan_mm.registry import LOOPS

#: MessageHub runtime-info key holding how many global tasks were consumed.
TASKS_CONSUMED_KEY = 'episodic_tasks_consumed'


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
    """

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
        super().run()

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
