"""Running the tasks of a meta-batch: vmap over chunks of tasks, or a loop.

The batching policy lives here, in one place: :class:`Batching` (the
``inner_loop.batching`` setting), the CPU thresholds of ``'auto'`` (measured
in the README's Benchmarks section), and :class:`TaskRunner`, which runs a
per-chunk function either vectorised (:data:`VMAP`: the per-task function
under one ``torch.func.vmap``) or one task at a time (:data:`LOOP`), with one
fallback from the first to the second.
"""
import math
import warnings
from dataclasses import dataclass
from typing import (Any, Callable, Dict, List, Mapping, Optional, Sequence,
                    Set, Tuple, Union)

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.utils._pytree import (tree_flatten, tree_leaves, tree_map,
                                 tree_unflatten)

from .params import TensorDict, grads_or_zeros

MODES = ('auto', 'vmap', 'loop')
# mode='auto' vmaps on the CPU up to this many G+D parameters.
CPU_VMAP_MAX_PARAMS = 1_000_000
# chunk='auto' on the CPU: most stacked G+D parameters per vmap.
CPU_CHUNK_PARAMS = 16_000_000
# Errors that mean "vmap/torch.func cannot run this module"; a real bug is
# raised again by the loop.
VMAP_ERRORS = (RuntimeError, NotImplementedError, TypeError)

# inner_loop.compile: most compiled variants of the inner gradient function
# (network pairs x losses x shapes) in one process.
COMPILE_LIMIT = 64

Chunk = Union[int, str, None]
LossFn = Callable[..., Tensor]  # (params, *data) -> scalar loss
Params = Union[TensorDict, Dict[str, TensorDict]]  # one or per meta-module


@dataclass
class Batching:
    """Whether and how much to vmap the tasks of a meta-batch.

    Attributes:
        mode: ``'vmap'``: the tasks of a chunk run as one vectorised
            computation (``torch.func.vmap``), falling back to the loop with
            a logged reason where vmap cannot run the networks; ``'loop'``:
            one task at a time; ``'auto'`` (default): ``'vmap'`` on CUDA and
            on the CPU for G + D of at most :data:`CPU_VMAP_MAX_PARAMS`
            parameters, else ``'loop'``.
        chunk: Most tasks per vmap; a larger meta-batch runs as the fewest
            (nearly) equal chunks. ``None``: all tasks at once; ``'auto'``
            (default): all at once on accelerators, on the CPU as many as
            keep the stacked G + D under :data:`CPU_CHUNK_PARAMS` parameters.
    """

    mode: str = 'auto'
    chunk: Chunk = 'auto'

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(
                f'batching.mode={self.mode!r} is invalid: use one of '
                f"{list(MODES)}, e.g. batching=dict(mode='auto').")
        chunk = self.chunk
        if not (chunk is None or chunk == 'auto' or
                (isinstance(chunk, int) and not isinstance(chunk, bool)
                 and chunk >= 1)):
            raise ValueError(
                f"batching.chunk={chunk!r} is invalid: use an int >= 1, None "
                "or 'auto', e.g. batching=dict(chunk=8), or None for all "
                'tasks at once.')

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> 'Batching':
        """Build from ``dict(mode=..., chunk=...)``, naming unknown keys."""
        unknown = set(cfg) - {'mode', 'chunk'}
        if unknown:
            raise KeyError(f'batching has no setting {sorted(unknown)}; '
                           "use batching=dict(mode='auto', chunk='auto').")
        return cls(**cfg)


def vmap_blockers(module: nn.Module) -> List[str]:
    """List the reasons why ``module`` cannot run under ``torch.func``.

    Detected: normalisation layers that update running statistics in training
    mode (BatchNorm/InstanceNorm with ``track_running_stats``), old-style
    ``spectral_norm`` hooks and parametrizations (both update their power
    iteration vectors in place).
    """
    reasons = []
    root = type(module).__name__
    for name, mod in module.named_modules():
        label = f'{root}.{name}' if name else root
        if (mod.training and getattr(mod, 'track_running_stats', False)
                and getattr(mod, 'running_mean', None) is not None):
            reasons.append(f'{label} ({type(mod).__name__}) updates running '
                           'statistics')
        if parametrize.is_parametrized(mod):
            reasons.append(
                f'{label} has parametrizations (e.g. spectral_norm)')
        for hook in mod._forward_pre_hooks.values():
            if type(hook).__name__ == 'SpectralNorm':
                reasons.append(f'{label} has a spectral_norm hook')
    return reasons


class Loop:
    """One task at a time, eager autograd: tensors have no task dim."""

    batched = False
    gp_backend = 'autograd'  # see metagan_mm.core.gan_losses

    @staticmethod
    def grad(loss_fn: LossFn, params: Params, data: tuple,
             create_graph: bool) -> Tuple[Params, Tensor]:
        """``(d loss_fn(params, *data) / d params, loss)``; ``params`` is a
        dict of tensors or of such dicts (one per meta-module)."""
        with torch.enable_grad():
            # Fresh graph nodes: the gradient counts only paths through these
            # handles (not e.g. through D's fast weights, which depend on G's
            # weights via earlier fakes), matching torch.func.grad.
            inputs = tree_map(
                lambda v: v.view_as(v) if create_graph and v.requires_grad else
                v.detach().requires_grad_(True), params)
            loss = loss_fn(inputs, *data)
            leaves, spec = tree_flatten(inputs)
            grads = grads_or_zeros(loss, leaves, create_graph)
        return tree_unflatten(list(grads), spec), loss.detach()


class Vmap:
    """A chunk of tasks at once: the driver runs the per-task function
    under one ``torch.func.vmap`` (it sees one task's tensors); each
    gradient inside it is a :func:`torch.func.grad_and_value`."""

    batched = True
    gp_backend = 'func'

    @staticmethod
    def grad(loss_fn: LossFn, params: Params, data: tuple,
             create_graph: bool) -> Tuple[Params, Tensor]:
        """The task's gradients and loss (inside the vmap of :meth:`map`)."""
        inputs = params if create_graph else tree_map(torch.Tensor.detach,
                                                      params)
        grads, loss = torch.func.grad_and_value(loss_fn)(inputs, *data)
        return grads, loss.detach()


class Compiled:
    """:data:`LOOP` or :data:`VMAP` with every inner gradient computed by a
    ``torch.compile``'d :mod:`torch.func` function (``inner_loop.compile``;
    first order only: a compiled graph is not differentiated twice).

    Each gradient function compiles once and is reused (guards on its code
    and captured objects). If compiling or running it fails, this gradient
    and every later one run the same :mod:`torch.func` code eagerly, with
    the reason noted once; a real bug is raised again there.

    Args:
        base: The mode to compile (whether it runs inside a vmap).
        note: Logs a message once (:meth:`TaskRunner.note`).
    """

    gp_backend = 'func'

    def __init__(self, base: Union[Loop, Vmap], note: Callable[[str],
                                                               None]) -> None:
        self.base, self.note = base, note
        self.batched = base.batched
        self.failed = False

    def grad(self, loss_fn: LossFn, params: Params, data: tuple,
             create_graph: bool) -> Tuple[Params, Tensor]:
        """Gradients and loss(es) as the base mode's, compiled."""
        if create_graph:
            raise ValueError('a compiled inner step is first order only '
                             '(create_graph=False).')

        def grads_and_loss(params: Params, *data: Any) -> Tuple[Params, Any]:
            return torch.func.grad_and_value(loss_fn)(params, *data)

        params = tree_map(torch.Tensor.detach, params)
        if not self.failed:
            try:
                # Scoped, not process-wide: this one code object is compiled
                # per network pair, loss and shape; running past the limit
                # raises (and falls back with the reason) instead of
                # silently running eagerly.
                with torch._dynamo.config.patch(
                        recompile_limit=COMPILE_LIMIT,
                        fail_on_recompile_limit_hit=True):
                    grads, loss = torch.compile(
                        grads_and_loss, dynamic=False)(params, *data)
                return grads, loss.detach()
            except Exception as err:  # noqa: B902  (any compiler failure)
                self.failed = True
                first = (str(err).splitlines() or [''])[0][:200]
                self.note('metagan_mm: inner_loop.compile: torch.compile '
                          'failed, running the inner step eagerly '
                          f'({type(err).__name__}: {first})')
        grads, loss = grads_and_loss(params, *data)
        return grads, loss.detach()


LOOP, VMAP = Loop(), Vmap()
Mode = Union[Loop, Vmap, Compiled]


class TaskRunner:
    """Apply a per-chunk function to every task of a meta-batch.

    With vmap, ``fn(VMAP, tasks[c], rand[c])`` runs per chunk ``c`` of
    tasks; otherwise ``fn(LOOP, tasks[t], rand[t])`` per task. If the vmap
    path raises, the whole meta-batch runs again in the loop (the one
    fallback), with the reason logged once.

    Args:
        modules: The networks (parameter count, vmap blockers).
        batching: The batching setting.
    """

    def __init__(self, modules: Sequence[nn.Module],
                 batching: Batching) -> None:
        self.modules = list(modules)
        self.batching = batching
        self._noted: Set[str] = set()

    def num_params(self) -> int:
        """Parameters of one task's networks (what a vmap stacks per task)."""
        return sum(p.numel() for m in self.modules for p in m.parameters())

    def use_vmap(self, device: Union[str, torch.device]) -> bool:
        """Whether ``mode`` asks for vmap on ``device`` (see
        :class:`Batching`)."""
        if self.batching.mode == 'auto':
            return torch.device(device).type != 'cpu' or \
                self.num_params() <= CPU_VMAP_MAX_PARAMS
        return self.batching.mode == 'vmap'

    def chunk_len(self, num_tasks: int, device: Union[str,
                                                      torch.device]) -> int:
        """Tasks per vmap: the fewest chunks of at most ``chunk`` tasks,
        all of (nearly) equal length."""
        limit = self.batching.chunk
        if limit == 'auto':
            limit = None
            if torch.device(device).type == 'cpu':
                limit = max(1, CPU_CHUNK_PARAMS // max(self.num_params(), 1))
        if limit is None or num_tasks <= limit:
            return max(num_tasks, 1)
        return math.ceil(num_tasks / math.ceil(num_tasks / limit))

    def chunks(self, num_tasks: int,
               device: Union[str, torch.device]) -> List[slice]:
        """Task slices, one per vmap (see :meth:`chunk_len`)."""
        step = self.chunk_len(num_tasks, device)
        return [
            slice(i, min(i + step, num_tasks))
            for i in range(0, num_tasks, step)
        ]

    def note(self, message: str) -> None:
        """Warn once per distinct message."""
        if message not in self._noted:
            self._noted.add(message)
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    def run(self,
            fn: Callable[[Mode, Tensor, Dict[str, Any]], Any],
            fold: Callable[[Any, Any], Any],
            tasks: Tensor,
            rand: Dict[str, Any],
            loop_reason: Optional[str] = None) -> Tuple[Any, bool]:
        """Run ``fn`` on every chunk (vmap) or task (loop), folding the
        results in task order as they come (so they need not all be kept).

        Args:
            fn: ``fn(mode, tasks, rand) -> result``: a chunk of tasks with
                ``VMAP``, one task (no task dim) with ``LOOP``.
            fold: ``fold(total, result) -> total`` (the first result is the
                first total).
            tasks: Per-task data (a pytree), leading dim ``T``.
            rand: Per-task randomness, leading dim ``T``.
            loop_reason: If given, loop (and note this reason once).

        Returns:
            The folded results and whether vmap ran.
        """
        first = tree_leaves(tasks)[0]
        num = first.shape[0]
        mode, parts = LOOP, list(range(num))
        if self.use_vmap(first.device):
            reasons = [r for m in self.modules for r in vmap_blockers(m)]
            if loop_reason is not None:
                self.note(f'metagan_mm: {loop_reason}')
            elif reasons:
                self.note('metagan_mm: batched (vmap) inner loop disabled, '
                          'running tasks in a loop: ' + '; '.join(reasons))
            else:
                mode, parts = VMAP, self.chunks(num, first.device)
        while True:
            total = None
            try:
                for part in parts:
                    out = fn(mode, *tree_map(lambda v: v[part], (tasks, rand)))
                    total = out if total is None else fold(total, out)
                return total, mode.batched
            except VMAP_ERRORS as err:
                if not mode.batched:
                    raise
                first = (str(err).splitlines() or [''])[0][:200]
                self.note('metagan_mm: torch.func.vmap failed, running '
                          f'tasks in a loop ({type(err).__name__}: {first})')
                mode, parts = LOOP, list(range(num))
