"""The algorithm contract shared by every meta-learner (torch only)."""
from dataclasses import dataclass, field
from typing import Any, Dict, NamedTuple, Optional

import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_map

from ..batching import Mode
from ..inner_loop import InnerLoop, Rates
from ..params import TensorDict, finite, grads_or_zeros, index_dict

Targets = Dict[str, Dict[str, TensorDict]]  # loss -> meta-module -> leaves


class MetaTrainingError(RuntimeError):
    """Raised when meta-training cannot go on (too many failed tasks,
    non-finite learned rates, out of memory without a fallback)."""


class TaskOutput(NamedTuple):
    """What an algorithm computes for one task, or for a chunk of tasks
    (then every tensor has a leading task dim).

    Attributes:
        logs: Losses by log name (``inner_d_loss`` ``[S*R]``,
            ``inner_g_loss`` ``[S]``, ``outer_d_loss``...); a task with a
            non-finite one is dropped. Those named in
            :meth:`MetaAlgorithm.targets` are differentiated.
        params: Adapted fast weights per meta-module, averaged over the
            valid tasks for :meth:`MetaAlgorithm.reduce` (Reptile).
        buffers: Adapted buffers per meta-module, averaged likewise into
            :attr:`MetaResult.buffers`.
    """

    logs: Dict[str, Tensor]
    params: Dict[str, TensorDict] = {}
    buffers: Dict[str, TensorDict] = {}


@dataclass
class MetaResult:
    """Meta-gradients of one meta-batch.

    Attributes:
        grads: Detached meta-gradients per meta-module (``'generator'``,
            ``'discriminator'``, and modules the algorithm owns, e.g.
            ``'inner_rates'``), keyed by the module's parameter names; means
            over the valid tasks.
        valid: ``[T]`` bool: the tasks that were not dropped.
        logs: Means over the valid tasks of :attr:`TaskOutput.logs` (NaN if
            none is valid).
        buffers: Adapted buffers per meta-module, averaged over valid tasks
            (e.g. BatchNorm running statistics; empty when not adapted).
        batched: Whether the tasks ran vmapped.
    """

    grads: Dict[str, TensorDict]
    valid: Tensor
    logs: Dict[str, Tensor]
    buffers: Dict[str, TensorDict] = field(default_factory=dict)
    batched: bool = False

    @property
    def num_tasks(self) -> int:
        """Tasks in the meta-batch."""
        return int(self.valid.numel())

    @property
    def num_valid(self) -> int:
        """Tasks whose losses and weights stayed finite."""
        return int(self.valid.sum())


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


def _add(a: dict, b: dict) -> dict:
    """Fold two chunks' results: join the flags, add the sums (integer
    buffers keep the first valid task's value)."""
    out = {
        'valid': torch.cat([a['valid'], b['valid']]),
        'logs': tree_map(torch.add, a['logs'], b['logs'])
    }
    sums = [p['sums'] for p in (a, b) if 'sums' in p]
    if sums:
        out['sums'] = sums[0] if len(sums) == 1 else tree_map(
            lambda x, y: x + y if x.is_floating_point() else x, *sums)
    return out


class MetaAlgorithm:
    """A meta-learning algorithm: what differs between Reptile, MAML...

    A subclass says what one task computes (:meth:`task`) and, for
    gradient-based algorithms, which losses differentiate which tensors
    (:meth:`targets`); :meth:`meta_gradients` is shared: it maps the tasks
    through the inner loop's :class:`~metagan_mm.core.batching.TaskRunner`,
    drops tasks with non-finite losses or weights, differentiates the
    targets' losses summed over the remaining tasks (per chunk), and
    averages.

    Attributes:
        num_support: Support images per task the algorithm adapts on (the
            rest are queries); None: all images of a task.
        second_order: Whether the inner loop keeps its graph (then
            ``inner_loop.grad_checkpoint`` applies).
        trains_encoder: Whether the algorithm meta-trains a condition
            encoder when the inner loop has one.
    """

    num_support: Optional[int] = None
    second_order: bool = False
    trains_encoder: bool = True

    # ------------------------------------------------ what a subclass says
    def sample_randomness(self,
                          inner: InnerLoop,
                          num_tasks: int,
                          n_images: int,
                          generator: Optional[torch.Generator] = None
                          ) -> Dict[str, Any]:
        """Pre-draw every random number of ``num_tasks`` tasks (leading dim
        ``T``), so that vmap and loop see the same numbers."""
        return inner.sample_randomness(num_tasks, n_images, generator)

    def task(self, inner: InnerLoop, mode: Mode, real: Tensor,
             rand: Dict[str, Any]) -> TaskOutput:
        """Adapt to a task (``mode``: one task or a chunk) and return its
        outputs."""
        raise NotImplementedError

    def targets(self, inner: InnerLoop) -> Targets:
        """Losses to differentiate: ``log name -> meta-module -> leaves``."""
        return {}

    def reduce(self, inner: InnerLoop,
               means: Optional[Dict[str, Any]]) -> Dict[str, TensorDict]:
        """Meta-gradients from the means over the valid tasks (``grads``,
        ``params``, ``buffers``; None if no task is valid). Default: the
        mean gradients of the target losses (zero if none is valid)."""
        if means is not None:
            return means['grads']
        zeros: Dict[str, TensorDict] = {}
        for leaves in self.targets(inner).values():
            for module, tensors in leaves.items():
                zeros.setdefault(module, {}).update({
                    k:
                    torch.zeros_like(v).detach()
                    for k, v in tensors.items()
                })
        return zeros

    def modules(self) -> Dict[str, nn.Module]:
        """Meta-modules the algorithm owns besides G and D (e.g. learned
        rates), by the name the model registers them under."""
        return {}

    def adaptation_rates(self) -> Optional[Rates]:
        """Inner learning rates for few-shot adaptation (None: the
        config's)."""
        return None

    def after_update(self) -> Dict[str, Tensor]:
        """Called after the outer optimisers stepped; returns values to
        log."""
        return {}

    # ----------------------------------------------------------- shared
    def meta_gradients(self, inner: InnerLoop, tasks: Tensor,
                       rand: Dict[str, Any]) -> MetaResult:
        """Meta-gradients of a meta-batch (means over the valid tasks).

        Args:
            inner: The inner loop (networks, settings, task runner).
            tasks: ``[T, N, C, H, W]`` images.
            rand: From :meth:`sample_randomness`.
        """
        check_tasks(tasks, (self.num_support or 0) + 1)
        targets = self.targets(inner)
        loop_reason = None
        if self.second_order and inner.checkpointing(True):
            loop_reason = ('inner_loop.grad_checkpoint=True runs the tasks '
                           'sequentially (checkpointing does not compose '
                           'with vmap).')

        def chunk(mode: Mode, real: Tensor, rand_c: Dict[str, Any]) -> dict:
            return self._chunk(inner, targets, mode, real, rand_c)

        total, batched = inner.runner.run(chunk, _add, tasks, rand,
                                          loop_reason)
        valid = total['valid'].cpu()
        n = int(valid.sum())
        mean = lambda v: v / n if v.is_floating_point() else v  # noqa: E731
        means = tree_map(mean, total['sums']) if 'sums' in total else None
        return MetaResult(
            self.reduce(inner, means), valid, tree_map(mean, total['logs']),
            means['buffers'] if means else {}, batched)

    def _chunk(self, inner: InnerLoop, targets: Targets, mode: Mode,
               real: Tensor, rand: Dict[str, Any]) -> dict:
        """One chunk of tasks: outputs, finiteness, sums, gradients."""
        out = self.task(inner, mode, real, rand)
        if not mode.batched:
            out = tree_map(lambda v: v.unsqueeze(0), out)
        valid = finite((out.logs, out.params))
        keep = valid.nonzero().flatten()
        if len(keep) == 0:
            return {
                'valid':
                valid,
                'logs':
                tree_map(lambda v: torch.zeros_like(v[0]).detach(), out.logs)
            }
        if len(keep) < len(valid):  # only with VMAP: drop the bad tasks
            out = (
                self.task(inner, mode, real[keep], index_dict(rand, keep))
                if targets else tree_map(lambda v: v[keep], out))
        grads: Dict[str, TensorDict] = {}
        for i, (key, leaves) in enumerate(targets.items()):
            names = [(m, k) for m, d in leaves.items() for k in d]
            values = grads_or_zeros(
                out.logs[key].sum(), [leaves[m][k] for m, k in names],
                retain_graph=i + 1 < len(targets))
            for (m, k), g in zip(names, values):
                grads.setdefault(m, {})[k] = g.detach()

        def per_task(v: Tensor) -> Tensor:
            return v.detach().sum(0) if v.is_floating_point() else v[0]

        return {
            'valid': valid,
            'logs': tree_map(lambda v: v.detach().sum(0), out.logs),
            'sums': {
                'grads': grads,
                'params': tree_map(per_task, out.params),
                'buffers': tree_map(per_task, out.buffers)
            }
        }
