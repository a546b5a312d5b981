"""The driver: runs an algorithm's per-task function over a meta-batch
(torch only).

The one place for what every algorithm shares: batching the tasks through
the inner loop's :class:`~metagan_mm.core.batching.TaskRunner` (vmap over
chunks, or a loop), dropping tasks with non-finite losses or weights,
differentiating the outer losses w.r.t. the algorithm's
:class:`~metagan_mm.core.algorithms.base.Targets`, averaging, turning a
second-order failure into an error naming the layer
(:mod:`~metagan_mm.core.algorithms.double_backward`), and running out of
memory (:class:`MetaDriver`), and the float16 loss scale
(:mod:`~metagan_mm.core.amp`).
"""
import warnings
from functools import partial
from typing import Any, Callable, Dict, Optional, Union

import torch
from torch import Tensor
from torch.utils._pytree import tree_leaves, tree_map

from .algorithms.base import (MetaAlgorithm, MetaResult, MetaTrainingError,
                              Targets, TaskLosses, TaskMeans, TaskOutput)
from .algorithms.double_backward import second_order_error
from .amp import scaled, unscaled
from .batching import Mode
from .inner_loop import InnerLoop
from .params import TensorDict, finite, grads_or_zeros, stack_tree
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


def meta_gradients(algorithm: MetaAlgorithm, inner: InnerLoop,
                   tasks: Union[Tensor, Task], rand: Any) -> MetaResult:
    """Meta-gradients of one meta-batch, without the out-of-memory
    fallback: ``MetaDriver(algorithm, inner, oom_fallback=False)``."""
    return MetaDriver(algorithm, inner, oom_fallback=False)(tasks, rand)


def _loop_reason(inner: InnerLoop, second_order: bool) -> Optional[str]:
    """Why the tasks must run in a loop (None: vmap where it can)."""
    if second_order and inner.checkpointing(True):
        return ('inner_loop.grad_checkpoint=True runs the tasks '
                'sequentially (checkpointing does not compose with vmap).')
    if inner.cfg.compile and not second_order:
        return ('inner_loop.compile=True runs the tasks sequentially '
                '(torch.compile does not compile inside the vmap over '
                'tasks).')
    return None


def _outer_grads(algorithm: MetaAlgorithm, targets: Targets, out: TaskOutput,
                 scale: Optional[float]) -> Dict[str, TensorDict]:
    """Gradients of the tasks' summed outer losses w.r.t. the targets
    (taken of the losses times the float16 loss ``scale``, then divided)."""
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
        values = unscaled(
            grads_or_zeros(
                scaled(loss.sum(), scale), [leaves[m][k] for m, k in names],
                retain_graph=i + 1 < len(pairs)), scale)
        for (m, k), g in zip(names, values):
            g = g.detach()
            module = grads.setdefault(m, {})
            module[k] = g + module[k] if k in module else g
    return grads


def _task_sum(v: Tensor) -> Tensor:
    """Sum over the tasks (integer tensors: the first task's value)."""
    return v.detach().sum(0) if v.is_floating_point() else v[0]


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
    """Runs an algorithm's per-task function over meta-batches.

    Maps the tasks through the inner loop's task runner (each task's
    function vmapped over a chunk, or called per task), drops tasks with
    non-finite losses or weights (a vmapped chunk is recomputed without
    them when the outer losses are differentiated), differentiates the
    outer losses w.r.t. the algorithm's targets per chunk (a chunk whose
    outer gradients are not finite is dropped whole) and averages. Under
    float16 autocast (``inner_loop.amp``) every gradient is taken at the
    inner loop's loss scale; after a meta-batch with dropped tasks the
    scale is halved (logged) and, down to a scale of 1, the meta-batch
    runs again; else the scale grows (:class:`~.amp.LossScaler`).

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
        first_order: Whether the second fallback is in force: every inner
            gradient is a constant, whatever the algorithm asks.
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
        """Meta-gradients of a meta-batch: means over the valid tasks.

        Args:
            tasks: ``[T, N, C, H, W]`` images, or a :class:`Task` whose
                tensors have a leading dim ``T``.
            rand: Per-task randomness, leading dim ``T``
                (:func:`draw_randomness`).

        Raises:
            DerivativeOrderError: in second order, when a network cannot be
                differentiated as often as needed (names it and the fixes).
            MetaTrainingError: out of memory without a fallback.
        """
        algorithm = self.algorithm
        tasks = tasks if isinstance(tasks, Task) else Task(tasks)
        check_tasks(tasks.images, (algorithm.num_support or 0) + 1)
        algorithm.prepare(self.inner)
        targets = algorithm.targets(self.inner)
        while True:
            inner = self.inner
            second_order = algorithm.second_order and not self.first_order
            scale = inner.loss_scale(tasks.images.device)
            try:
                total, batched = inner.runner.run(
                    partial(self._chunk, inner, targets, scale), _add, tasks,
                    rand, _loop_reason(inner, second_order))
            except torch.OutOfMemoryError as err:
                self._fall_back(err)
                continue
            except RuntimeError as err:
                if not second_order:
                    raise
                raise second_order_error(inner, tasks.images, err) from err
            valid = total['valid'].cpu()
            n = int(valid.sum())
            again = scale is not None and self._update_scale(
                scale,
                len(valid) - n, len(valid))
            if not again:
                break
        mean = lambda v: v / n if v.is_floating_point() else v  # noqa: E731
        means = TaskMeans(**tree_map(mean, total['sums'])) if n else None
        return MetaResult(
            algorithm.reduce(self.inner, means), valid,
            tree_map(mean, total['losses']), means.buffers if means else {},
            batched)

    def _update_scale(self, scale: float, dropped: int, num: int) -> bool:
        """Halve the float16 loss scale after dropped tasks (logged), else
        count towards its growth. True: tasks were dropped at a scale
        above 1, so the meta-batch is to run again at the halved scale (an
        overflow loses no task; what is not finite at scale 1 is dropped
        like any non-finite task)."""
        scaler = self.inner.scaler
        scaler.update(overflow=dropped > 0)
        again = dropped > 0 and scale > 1
        if dropped:
            self.log(f'metagan_mm: {dropped} of {num} tasks dropped: their '
                     'losses, weights or gradients were not finite under '
                     f'float16 autocast at loss scale {scale:g} (an '
                     'overflow, or divergence); the loss scale is now '
                     f'{scaler.scale:g}' +
                     ('; running the meta-batch again.' if again else '.'))
        return again

    def _chunk(self, inner: InnerLoop, targets: Targets,
               scale: Optional[float], mode: Mode, tasks: Task,
               rand: Any) -> dict:
        """One chunk of tasks (``VMAP``) or one task (``LOOP``): outputs,
        finiteness, sums and gradients of the outer losses."""
        task = partial(self.algorithm.task,
                       inner.bound(mode, first_order=self.first_order))

        if mode.batched:
            out = torch.func.vmap(task)(tasks, rand)
        else:
            out = tree_map(lambda v: v.unsqueeze(0), task(tasks, rand))
        valid = finite((out.losses, out.params))
        keep = valid.nonzero().flatten()
        zero = lambda v: torch.zeros_like(v[0]).detach()  # noqa: E731
        if len(keep) == 0:
            return {'valid': valid, 'losses': tree_map(zero, out.losses)}
        if len(keep) < len(valid):  # vmapped: again without the bad tasks
            out = (
                torch.func.vmap(task)(
                    *tree_map(lambda v: v[keep], (tasks, rand))) if targets.d
                or targets.g else tree_map(lambda v: v[keep], out))
        grads = _outer_grads(self.algorithm, targets, out, scale)
        leaves = tree_leaves(grads)
        if leaves and not torch.stack([g.isfinite().all()
                                       for g in leaves]).all():
            return {  # the outer backward overflowed (or diverged)
                'valid': torch.zeros_like(valid),
                'losses': tree_map(zero, out.losses)
            }
        return {
            'valid': valid,
            'losses': tree_map(lambda v: v.detach().sum(0), out.losses),
            'sums': {
                'grads': grads,
                'params': tree_map(_task_sum, out.params),
                'buffers': tree_map(_task_sum, out.buffers)
            }
        }

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
