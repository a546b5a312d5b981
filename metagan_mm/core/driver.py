"""The driver: runs an algorithm's per-task function over a meta-batch
(torch only).

The one place for what every algorithm shares: batching the tasks through
the inner loop's :class:`~metagan_mm.core.batching.TaskRunner` (vmap over
chunks, or a loop), dropping tasks with non-finite losses or weights,
differentiating the outer losses w.r.t. the algorithm's
:class:`~metagan_mm.core.algorithms.base.Targets`, averaging, turning a
second-order failure into an error naming the layer
(:mod:`~metagan_mm.core.algorithms.double_backward`), and running out of
memory (:class:`MetaDriver`).
"""
import warnings
from typing import Any, Callable, Dict, Optional, Union

import torch
from torch import Tensor
from torch.utils._pytree import tree_map

from .algorithms.base import (MetaAlgorithm, MetaResult, MetaTrainingError,
                              Targets, TaskLosses, TaskMeans, TaskOutput)
from .algorithms.double_backward import second_order_error
from .inner_loop import InnerLoop
from .params import TensorDict, finite, grads_or_zeros, index_dict, stack_tree
from .task import Task


def check_tasks(tasks: Tensor, min_images: int = 1) -> None:
    """Raise a ValueError unless ``tasks`` is ``[T, N, C, H, W]``."""
    if not isinstance(tasks, Tensor) or tasks.dim() != 5:
        shape = tuple(tasks.shape) if isinstance(tasks,
                                                 Tensor) else type(tasks)
        raise ValueError(
            f'tasks must be a Tensor [T, N, C, H, W], got {shape}.')
    if tasks.shape[0] < 1 or tasks.shape[1] < min_images:
        raise ValueError(f'tasks {tuple(tasks.shape)} needs T >= 1 and '
                         f'N >= {min_images} images per task.')


def draw_randomness(algorithm: MetaAlgorithm,
                    inner: InnerLoop,
                    num_tasks: int,
                    num_images: int,
                    generator: Optional[torch.Generator] = None) -> Any:
    """The randomness of ``num_tasks`` tasks, stacked on a leading dim."""
    return stack_tree([
        algorithm.randomness(inner, num_images, generator)
        for _ in range(num_tasks)
    ])


def meta_gradients(algorithm: MetaAlgorithm,
                   inner: InnerLoop,
                   tasks: Union[Tensor, Task],
                   rand: Any,
                   *,
                   first_order: bool = False) -> MetaResult:
    """Meta-gradients of a meta-batch: means over the valid tasks.

    Args:
        algorithm: What one task computes.
        inner: The inner loop (networks, objective, task runner).
        tasks: ``[T, N, C, H, W]`` images, or a :class:`Task` whose tensors
            have a leading dim ``T``.
        rand: Per-task randomness, leading dim ``T``
            (:func:`draw_randomness`).
        first_order: Treat every inner gradient as a constant, whatever
            the algorithm asks (the out-of-memory fallback).

    Raises:
        DerivativeOrderError: in second order, when a network cannot be
            differentiated as often as needed (names it and the fixes).
    """
    tasks = tasks if isinstance(tasks, Task) else Task(tasks)
    check_tasks(tasks.images, (algorithm.num_support or 0) + 1)
    algorithm.prepare(inner)
    second_order = algorithm.second_order and not first_order
    targets = algorithm.targets(inner)
    loop_reason = None
    if second_order and inner.checkpointing(True):
        loop_reason = ('inner_loop.grad_checkpoint=True runs the tasks '
                       'sequentially (checkpointing does not compose with '
                       'vmap).')
    elif inner.cfg.compile and not second_order:
        loop_reason = ('inner_loop.compile=True runs the tasks sequentially '
                       '(torch.compile does not compile inside the vmap '
                       'over tasks).')

    def chunk(mode: Any, part: Task, rand_c: Any) -> dict:
        view = inner.bound(mode, first_order=first_order)
        return _chunk(algorithm, view, targets, part, rand_c)

    try:
        total, batched = inner.runner.run(chunk, _add, tasks, rand,
                                          loop_reason)
    except torch.OutOfMemoryError:
        raise
    except RuntimeError as err:
        if not second_order:
            raise
        raise second_order_error(inner, tasks.images, err) from err
    valid = total['valid'].cpu()
    n = int(valid.sum())
    mean = lambda v: v / n if v.is_floating_point() else v  # noqa: E731
    means = TaskMeans(**tree_map(mean, total['sums'])) if n else None
    return MetaResult(
        algorithm.reduce(inner, means), valid, tree_map(mean, total['losses']),
        means.buffers if means else {}, batched)


def _chunk(algorithm: MetaAlgorithm, inner: InnerLoop, targets: Targets,
           tasks: Task, rand: Any) -> dict:
    """One chunk of tasks (one task in a loop): outputs, finiteness, sums
    and gradients of the outer losses."""

    def one(task: Task, r: Any) -> TaskOutput:
        return algorithm.task(inner, task, r)

    out = inner.mode.map(one, tasks, rand)
    valid = finite((out.losses, out.params))
    keep = valid.nonzero().flatten()
    if len(keep) == 0:
        zero = lambda v: torch.zeros_like(v[0]).detach()  # noqa: E731
        return {'valid': valid, 'losses': tree_map(zero, out.losses)}
    if len(keep) < len(valid):  # vmapped: again without the bad tasks
        out = (
            inner.mode.map(one, tree_map(lambda v: v[keep], tasks),
                           index_dict(rand, keep))
            if targets.d or targets.g else tree_map(lambda v: v[keep], out))
    pairs = [(name, getattr(out.losses, name), leaves)
             for name, leaves in (('outer_d', targets.d),
                                  ('outer_g', targets.g)) if leaves]
    grads: Dict[str, TensorDict] = {}
    for i, (name, loss, leaves) in enumerate(pairs):
        if loss is None:
            raise ValueError(
                f'{type(algorithm).__name__}.targets() names tensors for '
                f'{name} but its task() returns no losses.{name}.')
        names = [(m, k) for m, d in leaves.items() for k in d]
        values = grads_or_zeros(
            loss.sum(), [leaves[m][k] for m, k in names],
            retain_graph=i + 1 < len(pairs))
        for (m, k), g in zip(names, values):
            module = grads.setdefault(m, {})
            module[k] = g.detach() + module[k] if k in module else g.detach()

    def per_task(v: Tensor) -> Tensor:
        return v.detach().sum(0) if v.is_floating_point() else v[0]

    return {
        'valid': valid,
        'losses': tree_map(lambda v: v.detach().sum(0), out.losses),
        'sums': {
            'grads': grads,
            'params': tree_map(per_task, out.params),
            'buffers': tree_map(per_task, out.buffers)
        }
    }


def _add(a: dict, b: dict) -> dict:
    """Fold two chunks' results: join the flags, add the sums (integer
    buffers keep the first valid task's value)."""
    out = {
        'valid': torch.cat([a['valid'], b['valid']]),
        'losses': tree_map(torch.add, a['losses'], b['losses'])
    }
    sums = [p['sums'] for p in (a, b) if 'sums' in p]
    if sums:
        out['sums'] = sums[0] if len(sums) == 1 else tree_map(
            lambda x, y: x + y if x.is_floating_point() else x, *sums)
    return out


class MetaDriver:
    """:func:`meta_gradients` of one algorithm and inner loop, with the
    out-of-memory fallback.

    When second-order meta-gradients run out of memory (their memory grows
    with the inner steps) and ``oom_fallback`` is set, the driver logs a
    warning and goes on with gradient checkpointing of the inner steps
    (``inner_loop.grad_checkpoint``, same values), and if that runs out of
    memory too, first order for the rest of training. Any other
    out-of-memory error stops with a :class:`MetaTrainingError` naming the
    options. The algorithm itself is never changed.

    Args:
        algorithm: The algorithm.
        inner: The inner loop.
        oom_fallback: Fall back as above (False: stop).
        log: Where the fallback's warnings go (default:
            :func:`warnings.warn`).

    Attributes:
        inner: The inner loop in use (checkpointed after the first
            fallback).
        first_order: Whether the second fallback is in force.
    """

    def __init__(self,
                 algorithm: MetaAlgorithm,
                 inner: InnerLoop,
                 *,
                 oom_fallback: bool = True,
                 log: Optional[Callable[[str], None]] = None) -> None:
        self.algorithm, self.inner = algorithm, inner
        self.oom_fallback = oom_fallback
        self.first_order = False
        self.log = log or (lambda msg: warnings.warn(msg, RuntimeWarning))

    def __call__(self, tasks: Union[Tensor, Task], rand: Any) -> MetaResult:
        """Meta-gradients of a meta-batch (see :func:`meta_gradients`)."""
        while True:
            try:
                return meta_gradients(
                    self.algorithm,
                    self.inner,
                    tasks,
                    rand,
                    first_order=self.first_order)
            except torch.OutOfMemoryError as err:
                self._fall_back(err)

    def _fall_back(self, err: BaseException) -> None:
        second_order = self.algorithm.second_order and not self.first_order
        if not (second_order and self.oom_fallback):
            hint = (', set model.inner_loop.grad_checkpoint=True (second '
                    'order in less memory), or set model.first_order=True '
                    '(its memory does not grow with the inner steps)'
                    if second_order else ' or model.inner_loop.batching.chunk')
            raise MetaTrainingError(
                f'{type(self.algorithm).__name__} ran out of memory ({err}). '
                'Lower the meta-batch (train_dataloader.batch_size) or '
                f'inner_loop.steps{hint}.') from None
        if not self.inner.cfg.grad_checkpoint:
            self.inner = self.inner.replace(grad_checkpoint=True)
            if self.inner.checkpointing(True):  # False with buffers
                self._release(
                    'second-order meta-gradients ran out of memory; '
                    'continuing with gradient checkpointing of the inner '
                    'steps (model.inner_loop.grad_checkpoint=True): same '
                    'values, less memory, slower.')
                return
        self.first_order = True
        self._release('second-order meta-gradients ran out of memory; '
                      'continuing FIRST ORDER (model.first_order=True) from '
                      'here. Set model.oom_fallback=False to stop instead.')

    def _release(self, message: str) -> None:
        self.log(message)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


__all__ = [
    'MetaDriver', 'meta_gradients', 'draw_randomness', 'check_tasks',
    'TaskLosses'
]
