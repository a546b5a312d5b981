"""The contract every meta-learner implements (torch only).

An algorithm is written for ONE task: :meth:`MetaAlgorithm.task` gets an
inner loop, one :class:`~metagan_mm.core.task.Task` and that task's
randomness, and returns a :class:`TaskOutput`. Everything about the other
tasks of the meta-batch (vmap, chunks, the sequential fallback), dropping
tasks with non-finite results, differentiating the outer losses, averaging,
translating errors and running out of memory is the driver's
(:mod:`metagan_mm.core.driver`).
"""
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Type

import torch
from torch import Tensor, nn
from torch.utils._pytree import register_dataclass

from ..inner_loop import InnerLoop, Rates
from ..params import TensorDict
from ..task import Task


class MetaTrainingError(RuntimeError):
    """Raised when meta-training cannot go on (too many failed tasks,
    non-finite learned rates, out of memory without a fallback)."""


@dataclass
class TaskLosses:
    """The losses of one task (the driver averages them over the valid
    tasks for the logs; a task with a non-finite one is dropped).

    Attributes:
        inner_d: ``[U]`` D losses of the inner updates, each before it.
        inner_g: ``[S]`` G losses of the inner updates.
        outer_d: ``[]`` outer loss differentiated w.r.t. :attr:`Targets.d`.
        outer_g: ``[]`` outer loss differentiated w.r.t. :attr:`Targets.g`.
    """

    inner_d: Optional[Tensor] = None
    inner_g: Optional[Tensor] = None
    outer_d: Optional[Tensor] = None
    outer_g: Optional[Tensor] = None


@dataclass
class TaskOutput:
    """What an algorithm computes for one task.

    Attributes:
        losses: The task's losses.
        params: Adapted fast weights per meta-module, averaged over the
            valid tasks for :meth:`MetaAlgorithm.reduce` (Reptile).
        buffers: Adapted buffers per meta-module, averaged likewise into
            :attr:`MetaResult.buffers`.
    """

    losses: TaskLosses
    params: Dict[str, TensorDict] = field(default_factory=dict)
    buffers: Dict[str, TensorDict] = field(default_factory=dict)


register_dataclass(TaskLosses)
register_dataclass(TaskOutput)


@dataclass
class Targets:
    """What the outer losses train: meta-module -> parameter name -> live
    tensor (e.g. ``{'discriminator': D's parameters}``).

    Attributes:
        d: Differentiated by :attr:`TaskLosses.outer_d`.
        g: Differentiated by :attr:`TaskLosses.outer_g`.
    """

    d: Dict[str, TensorDict] = field(default_factory=dict)
    g: Dict[str, TensorDict] = field(default_factory=dict)


@dataclass
class MetaResult:
    """Meta-gradients of one meta-batch.

    Attributes:
        grads: Detached meta-gradients per meta-module (``'generator'``,
            ``'discriminator'``, and modules the algorithm owns, e.g.
            ``'inner_rates'``), keyed by the module's parameter names; means
            over the valid tasks.
        valid: ``[T]`` bool: the tasks that were not dropped.
        losses: Means over the valid tasks (NaN if none is valid).
        buffers: Adapted buffers per meta-module, averaged over valid tasks
            (e.g. BatchNorm running statistics; empty when not adapted).
        batched: Whether the tasks ran vmapped.
    """

    grads: Dict[str, TensorDict]
    valid: Tensor
    losses: TaskLosses
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


@dataclass
class TaskMeans:
    """Means over the valid tasks, for :meth:`MetaAlgorithm.reduce`.

    Attributes:
        grads: Mean gradients of the outer losses per meta-module.
        params: Mean adapted weights per meta-module.
        buffers: Mean adapted buffers per meta-module.
    """

    grads: Dict[str, TensorDict]
    params: Dict[str, TensorDict]
    buffers: Dict[str, TensorDict]


class MetaAlgorithm:
    """A meta-learning algorithm: what differs between Reptile, MAML...

    A subclass is written for one task: :meth:`task` (required), and
    optionally :meth:`randomness`, :meth:`targets` (which meta-tensors the
    outer losses train), :meth:`reduce` (meta-gradients from the means over
    the valid tasks), :meth:`modules` (meta-modules it owns, stepped by
    their own optimizer wrapper), :meth:`prepare`, :meth:`after_update` and
    :meth:`adaptation_rates`. Register it with
    :func:`~metagan_mm.core.algorithms.register_algorithm`; a model config
    then names it: ``model=dict(type='MetaGAN',
    algorithm=dict(type='MyAlgorithm', ...))``.

    Attributes:
        num_support: Support images per task the algorithm adapts on (the
            rest are queries); None: all images of a task.
        second_order: Whether the inner loop keeps its graph (then
            ``inner_loop.grad_checkpoint`` applies, and the driver may fall
            back to first order when memory runs out).
        trains_encoder: Whether the algorithm meta-trains a condition
            encoder when the inner loop has one.
    """

    num_support: Optional[int] = None
    second_order: bool = False
    trains_encoder: bool = True

    @classmethod
    def build(cls, inner: InnerLoop, **options: Any) -> 'MetaAlgorithm':
        """Build from config options (``inner``: for algorithms that own
        tensors shaped like the networks', e.g. learned rates)."""
        return cls(**options)

    def randomness(self, inner: InnerLoop, num_images: int,
                   generator: Optional[torch.Generator]) -> Any:
        """Pre-draw every random number of one task of ``num_images``
        images (outside any vmap, so that vmap and loop see the same
        numbers). Default: ``{'inner': inner.randomness(num_images)}``."""
        return {'inner': inner.randomness(num_images, generator)}

    def task(self, inner: InnerLoop, task: Task, rand: Any) -> TaskOutput:
        """What the algorithm computes for ONE task."""
        raise NotImplementedError

    def targets(self, inner: InnerLoop) -> Targets:
        """Which live meta-tensors the outer losses train (default: none)."""
        return Targets()

    def reduce(self, inner: InnerLoop,
               means: Optional[TaskMeans]) -> Dict[str, TensorDict]:
        """Meta-gradients from the means over the valid tasks (None if no
        task is valid). Default: the mean gradients of the outer losses
        (zeros if no task is valid)."""
        if means is not None:
            return means.grads
        zeros: Dict[str, TensorDict] = {}
        targets = self.targets(inner)
        for leaves in (targets.d, targets.g):
            for module, tensors in leaves.items():
                zeros.setdefault(module, {}).update({
                    k:
                    torch.zeros_like(v).detach()
                    for k, v in tensors.items()
                })
        return zeros

    def prepare(self, inner: InnerLoop) -> None:
        """Called by the driver before each meta-batch (e.g. to check
        learned rates)."""

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


#: Every registered algorithm by class name (:func:`register_algorithm`).
ALGORITHMS: Dict[str, Type[MetaAlgorithm]] = {}


def register_algorithm(cls: Type[MetaAlgorithm]) -> Type[MetaAlgorithm]:
    """Class decorator: make ``cls`` buildable by its class name.

    Raises:
        KeyError: Another class already has the name.
    """
    old = ALGORITHMS.get(cls.__name__)
    if old is not None and (old.__module__,
                            old.__qualname__) != (cls.__module__,
                                                  cls.__qualname__):
        raise KeyError(f'an algorithm named {cls.__name__!r} is already '
                       f'registered ({old.__module__}); rename one.')
    ALGORITHMS[cls.__name__] = cls
    return cls


def build_algorithm(cfg: Mapping[str, Any], inner: InnerLoop) -> MetaAlgorithm:
    """Build a registered algorithm from ``dict(type=name, **options)``.

    Raises:
        KeyError: naming the unknown type and the registered ones.
    """
    options = dict(cfg)
    name = options.pop('type', None)
    if name not in ALGORITHMS:
        raise KeyError(
            f'model.algorithm type {name!r} is not a registered '
            f'meta-learning algorithm; registered: {sorted(ALGORITHMS)}. '
            'A new one is a MetaAlgorithm subclass decorated with '
            '@register_algorithm in a module that is imported (a file in '
            'metagan_mm/core/algorithms/, or custom_imports).')
    return ALGORITHMS[name].build(inner, **options)
