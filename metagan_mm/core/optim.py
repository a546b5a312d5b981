"""Functional inner-loop optimisers on fast-weight dicts (torch only)."""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Tuple, Union

from torch import Tensor

Rate = Union[float, Tensor]
_V_FLOOR = 1e-30  # keeps d sqrt(v)/dv finite for second order when grad == 0


def resolve_rates(params: Mapping[str, Tensor], default: float,
                  learned: Optional[Mapping[str, Tensor]]) -> Dict[str, Rate]:
    """Return ``name -> lr``: a learned rate if given, else ``default``.

    Args:
        params: Fast weights (for the names).
        default: Config learning rate.
        learned: Optional ``name -> tensor`` rates broadcastable to the param.
    """
    learned = learned or {}
    return {k: learned.get(k, default) for k in params}


@dataclass
class AdamState:
    """Per-task Adam state: step count and first/second moments."""

    step: int = 0
    m: Dict[str, Tensor] = field(default_factory=dict)
    v: Dict[str, Tensor] = field(default_factory=dict)


def sgd_update(params: Mapping[str, Tensor], grads: Mapping[str, Tensor],
               rates: Mapping[str, Rate]) -> 'OrderedDict[str, Tensor]':
    """Return ``p - lr * g`` for every fast weight."""
    return OrderedDict((k, p - rates[k] * grads[k]) for k, p in params.items())


def adam_update(params: Mapping[str, Tensor], grads: Mapping[str, Tensor],
                rates: Mapping[str, Rate], state: AdamState,
                betas: Tuple[float, float],
                eps: float) -> Tuple['OrderedDict[str, Tensor]', AdamState]:
    """One functional (bias-corrected) Adam step; returns new params/state.

    Args:
        params: Fast weights.
        grads: Their gradients.
        rates: ``name -> lr`` (float or broadcastable tensor).
        state: Previous state (not modified).
        betas: ``(beta1, beta2)``.
        eps: Denominator epsilon.
    """
    b1, b2 = betas
    step = state.step + 1
    new = AdamState(step=step)
    out = OrderedDict()
    for k, p in params.items():
        g = grads[k]
        m_prev = state.m.get(k)
        v_prev = state.v.get(k)
        m = (1 - b1) * g if m_prev is None else b1 * m_prev + (1 - b1) * g
        v = (1 - b2) * g * g if v_prev is None else b2 * v_prev + (1 - b2) * g * g
        new.m[k], new.v[k] = m, v
        m_hat = m / (1 - b1**step)
        v_hat = v / (1 - b2**step)
        out[k] = p - rates[k] * m_hat / (v_hat.clamp_min(_V_FLOOR).sqrt() + eps)
    return out, new


__all__ = ['AdamState', 'adam_update', 'sgd_update', 'resolve_rates']
