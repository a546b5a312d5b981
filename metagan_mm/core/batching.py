"""Task batching: ``torch.func.vmap`` with a sequential fallback (torch only)."""
import math
import warnings
from typing import (Any, Callable, Dict, List, Mapping, Optional, Sequence,
                    Set, Union)

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from .params import index_dict

# Errors that mean "vmap/torch.func cannot run this module"; a real bug is
# re-raised by the sequential rerun.
VMAP_ERRORS = (RuntimeError, NotImplementedError, TypeError)

# vmap_chunk_size='auto' on the CPU: most stacked G+D parameters per vmap.
# One vmap over 16 tasks of FIGR's full-width nets (1.7M parameters each)
# measured 0.9-1.05x the sequential loop on 2 cores, two vmaps of 8 tasks
# 1.1-1.3x (README, Benchmarks); small nets stay in one vmap.
CPU_CHUNK_PARAMS = 16_000_000


def vmap_blockers(module: nn.Module) -> List[str]:
    """List the reasons why ``module`` cannot run under ``torch.func``.

    Detected: normalisation layers that update running statistics in training
    mode (BatchNorm/InstanceNorm with ``track_running_stats``), old-style
    ``spectral_norm`` hooks and parametrizations (both update their power
    iteration vectors in place).

    Args:
        module: The network to inspect.

    Returns:
        Human-readable reasons (empty if none found).
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
            reasons.append(f'{label} has parametrizations (e.g. spectral_norm)')
        for hook in mod._forward_pre_hooks.values():
            if type(hook).__name__ == 'SpectralNorm':
                reasons.append(f'{label} has a spectral_norm hook')
    return reasons


def stack_tree(items: Sequence[Any]) -> Any:
    """Stack a list of same-structured pytrees (dict/tuple/list/Tensor)."""
    first = items[0]
    if isinstance(first, Tensor):
        return torch.stack(list(items))
    if isinstance(first, Mapping):
        return type(first)((k, stack_tree([it[k] for it in items]))
                           for k in first)
    if isinstance(first, (tuple, list)):
        return type(first)(stack_tree([it[i] for it in items])
                           for i in range(len(first)))
    return list(items)


class TaskMapper:
    """Run a per-task function over ``T`` tasks, batched or sequentially.

    The function receives ``(backend, real_t, rand_t)`` where ``backend`` is
    ``'func'`` under vmap and ``'autograd'`` in the sequential loop (see
    :mod:`metagan_mm.core.gan_losses`), and returns a pytree of tensors.

    Args:
        modules: Networks used by the function (checked for vmap blockers).
        enabled: If False, always run sequentially (no note).
        chunk_size: Most tasks per vmap (see
            :attr:`InnerLoopConfig.vmap_chunk_size`): an int, ``None`` (all
            tasks in one vmap) or ``'auto'``.
    """

    def __init__(self, modules: Sequence[nn.Module], enabled: bool = True,
                 chunk_size: Union[int, str, None] = 'auto') -> None:
        self.modules = list(modules)
        self.enabled = enabled
        self.chunk_size = chunk_size
        self._noted: Set[str] = set()
        self.last_batched = False

    def num_params(self) -> int:
        """Parameters of one task's networks (what a vmap stacks per task)."""
        return sum(p.numel() for m in self.modules for p in m.parameters())

    def chunk_len(self, num_tasks: int,
                  device: Union[str, torch.device]) -> int:
        """Tasks per vmap for ``num_tasks`` tasks on ``device``.

        The meta-batch is split into the fewest chunks of at most
        ``chunk_size`` tasks, all of (nearly) equal length.
        """
        limit = self.chunk_size
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
        return [slice(i, min(i + step, num_tasks))
                for i in range(0, num_tasks, step)]

    def note(self, message: str) -> None:
        """Warn once per distinct message."""
        if message not in self._noted:
            self._noted.add(message)
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    def can_vmap(self) -> bool:
        """Return whether vmap may be tried (notes the reason if not)."""
        if not self.enabled:
            return False
        reasons = [r for m in self.modules for r in vmap_blockers(m)]
        if reasons:
            self.note('metagan_mm: batched (vmap) inner loop disabled, running '
                      'tasks sequentially: ' + '; '.join(reasons))
            return False
        return True

    def map(self, fn: Callable[..., Any], real: Tensor,
            rand: Dict[str, Any], batched: bool = True) -> Any:
        """Apply ``fn`` to every task and stack the outputs along dim 0.

        Args:
            fn: ``fn(backend, real_t, rand_t) -> pytree``.
            real: ``[T, ...]`` per-task data.
            rand: Per-task randomness, leading dim ``T``.
            batched: Try ``torch.func.vmap`` first.

        Returns:
            Stacked outputs (leading dim ``T``).
        """
        self.last_batched = False
        if batched:
            out = self.try_vmap(fn, real, rand)
            if out is not None:
                return out
        return stack_tree([
            fn('autograd', real[t], index_dict(rand, t))
            for t in range(real.shape[0])
        ])

    def try_vmap(self, fn: Callable[..., Any], real: Tensor,
                 rand: Dict[str, Any]) -> Optional[Any]:
        """Run ``fn('func', ...)`` under vmap (in chunks, see
        :meth:`chunk_len`); None (with a note) if refused."""
        num = real.shape[0]
        step = self.chunk_len(num, real.device)
        return self.try_batched(lambda: torch.func.vmap(
            lambda r, z: fn('func', r, z),
            chunk_size=step if step < num else None)(real, rand))

    def try_batched(self, call: Callable[[], Any]) -> Optional[Any]:
        """Run a vmap-based ``call()``; None (with a note) if vmap refuses."""
        self.last_batched = False
        if not self.can_vmap():
            return None
        try:
            out = call()
        except VMAP_ERRORS as err:
            self.note_failure('torch.func.vmap', err)
            return None
        self.last_batched = True
        return out

    def note_failure(self, what: str, err: BaseException) -> None:
        """Note that ``what`` failed and tasks run sequentially instead."""
        first = (str(err).splitlines() or [''])[0][:200]
        self.note(f'metagan_mm: {what} failed, running tasks sequentially '
                  f'({type(err).__name__}: {first})')
