"""Task batching: ``torch.func.vmap`` with a sequential fallback (torch only)."""
import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Set

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from .params import index_dict

# Errors that mean "vmap/torch.func cannot run this module"; a real bug is
# re-raised by the sequential rerun.
VMAP_ERRORS = (RuntimeError, NotImplementedError, TypeError)


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
    """

    def __init__(self, modules: Sequence[nn.Module], enabled: bool = True) -> None:
        self.modules = list(modules)
        self.enabled = enabled
        self._noted: Set[str] = set()
        self.last_batched = False

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
        """Run ``fn('func', ...)`` under vmap; None (with a note) if refused."""
        return self.try_batched(lambda: torch.func.vmap(
            lambda r, z: fn('func', r, z))(real, rand))

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
