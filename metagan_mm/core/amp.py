"""Mixed precision of the inner loop (torch only).

``inner_loop.amp=dict(dtype=...)`` (``tools/train.py --amp`` sets it) runs
every network of the inner loop under :func:`torch.autocast`: the one place
is :meth:`~metagan_mm.core.objective.Nets.call`, through which every
objective runs the networks, so the precision applies to any objective, the
outer losses of MAML and test-time adaptation and generation alike. Each
network's output is cast back to the dtype of its weights, so what the
objective computes from the outputs (losses, the gradient penalty's
interpolation and norm), the inner gradients, the inner optimiser's state,
the noise and the meta-weights all stay in fp32. Within one inner loss each
weight is cast once, however often its network runs
(:meth:`Amp.weight_cache`).

fp16 has a narrow range, so its gradients are computed from the loss times
a dynamic loss scale (:class:`LossScaler`, like
:class:`torch.amp.GradScaler` but for functional gradients) and divided by
it. A task whose scaled gradients overflow ends with non-finite losses or
weights; the driver logs it, halves the scale and runs the meta-batch
again, down to a scale of 1, where a task that is still not finite is
dropped like any non-finite task.
"""
import difflib
import math
from dataclasses import dataclass, fields
from typing import Any, Callable, Dict, Mapping, Optional, TypeVar

import torch
from torch import Tensor
from torch.utils._pytree import tree_map

#: The values ``inner_loop.amp.dtype`` accepts.
DTYPES = ('auto', 'bfloat16', 'float16')
LOW_PRECISION = (torch.bfloat16, torch.float16)

T = TypeVar('T')


@dataclass
class Amp:
    """The ``inner_loop.amp`` setting.

    Attributes:
        dtype: ``'bfloat16'``, ``'float16'`` or ``'auto'`` (default):
            bfloat16 on the CPU and on GPUs that support it, else float16.
        init_scale: Initial loss scale of float16 (> 0; bfloat16 has
            fp32's range and is not scaled).
        growth_interval: Meta-iterations without overflow after which the
            float16 loss scale doubles (>= 1).
    """

    dtype: str = 'auto'
    init_scale: float = 2.0**8
    growth_interval: int = 100

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(
                f'inner_loop.amp.dtype={self.dtype!r} is invalid: use one of '
                f"{list(DTYPES)}, e.g. amp=dict(dtype='bfloat16').")
        scale = self.init_scale
        if not (isinstance(scale,
                           (int, float)) and not isinstance(scale, bool)
                and math.isfinite(scale) and scale > 0):
            raise ValueError(
                f'inner_loop.amp.init_scale={scale!r} is invalid: use a '
                'finite number > 0, e.g. init_scale=1024.')
        growth = self.growth_interval
        if not (isinstance(growth, int) and not isinstance(growth, bool)
                and growth >= 1):
            raise ValueError(
                f'inner_loop.amp.growth_interval={growth!r} is invalid: use '
                'an int >= 1, e.g. growth_interval=100.')

    @classmethod
    def from_dict(cls, cfg: Mapping[str, Any]) -> 'Amp':
        """Build from ``dict(dtype=...)``, naming unknown keys."""
        if not isinstance(cfg, Mapping):
            raise TypeError(
                f'inner_loop.amp={cfg!r} is invalid: use None (fp32) or '
                "dict(dtype='auto'|'bfloat16'|'float16').")
        names = [f.name for f in fields(cls)]
        for key in cfg:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ''
                raise KeyError(f"inner_loop.amp has no setting '{key}'.{hint}"
                               f' Valid settings: {", ".join(names)}.')
        return cls(**cfg)

    def dtype_on(self, device_type: str) -> torch.dtype:
        """The autocast dtype on a device type (``'cpu'``, ``'cuda'``)."""
        if self.dtype != 'auto':
            return getattr(torch, self.dtype)
        if device_type == 'cuda' and not torch.cuda.is_bf16_supported():
            return torch.float16
        return torch.bfloat16

    def weight_cache(self, like: Tensor) -> torch.autocast:
        """A scope in which each weight (a leaf that requires grad) is cast
        to low precision once, however many network calls (:meth:`run`)
        use it, as within one autocast region. Autocast's cast cache lives
        until its outermost region ends; this region is that outer one,
        with autocast itself off (only :meth:`run` turns it on)."""
        return torch.autocast(like.device.type, enabled=False)

    def run(self, fn: Callable[[], T], like: Tensor) -> T:
        """``fn()`` under autocast on ``like``'s device, its low-precision
        outputs cast back to ``like``'s dtype (the weights')."""
        with torch.autocast(
                like.device.type, dtype=self.dtype_on(like.device.type)):
            out = fn()
        return tree_map(
            lambda t: t.to(like.dtype)
            if isinstance(t, Tensor) and t.dtype in LOW_PRECISION else t, out)


def scaled(loss: Tensor, scale: Optional[float]) -> Tensor:
    """``loss`` times the float16 loss ``scale`` (None: ``loss``)."""
    return loss if scale is None else loss * scale


def unscaled(tree: T, scale: Optional[float]) -> T:
    """Every tensor of ``tree`` (the gradients and loss of a
    :func:`scaled` loss) divided by ``scale`` (None: ``tree``). Scaled
    gradients that overflowed stay non-finite, and so the task's weights."""
    return tree if scale is None else tree_map(lambda t: t / scale, tree)


class LossScaler:
    """Dynamic loss scale of float16 inner loops.

    The scale is constant during a meta-iteration; the driver then calls
    :meth:`update`: halved after a meta-iteration with an overflow,
    doubled after ``growth_interval`` meta-iterations without one.

    Args:
        init_scale: Initial scale.
        growth_interval: Meta-iterations without overflow before doubling.
    """

    def __init__(self, init_scale: float, growth_interval: int) -> None:
        self.scale = float(init_scale)
        self.growth_interval = growth_interval
        self.good_steps = 0

    def update(self, overflow: bool) -> None:
        """Halve the scale after an overflow, else count towards growth."""
        if overflow:
            self.scale, self.good_steps = self.scale / 2, 0
            return
        self.good_steps += 1
        if self.good_steps >= self.growth_interval:
            self.scale, self.good_steps = self.scale * 2, 0

    def state_dict(self) -> Dict[str, float]:
        """The state to save with a checkpoint (plain numbers)."""
        return {'scale': self.scale, 'good_steps': self.good_steps}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Restore :meth:`state_dict`."""
        self.scale = float(state['scale'])
        self.good_steps = int(state['good_steps'])


__all__ = ['Amp', 'LossScaler', 'scaled', 'unscaled', 'DTYPES']
