"""Functional inner-loop optimisers on fast-weight dicts (torch only)."""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Set, Tuple, Union

import torch
from torch import Tensor

Rate = Union[float, Tensor]
_V_FLOOR = 1e-30  # keeps d sqrt(v)/dv finite for second order when grad == 0


@dataclass
class AdamState:
    """Per-task Adam state: step count and first/second moments.

    ``owned`` holds the ids of the tensors the multi-tensor path allocated
    itself (the moments and the parameters it returned); only those are
    updated in place by the next step, never the caller's meta-weights.
    """

    step: int = 0
    m: Dict[str, Tensor] = field(default_factory=dict)
    v: Dict[str, Tensor] = field(default_factory=dict)
    owned: Set[int] = field(default_factory=set)
    # keeps the owned parameters alive so their ids cannot be reused
    owned_params: List[Tensor] = field(default_factory=list, repr=False)


def sgd_update(params: Mapping[str, Tensor], grads: Mapping[str, Tensor],
               rates: Mapping[str, Rate]) -> 'OrderedDict[str, Tensor]':
    """Return ``p - lr * g`` for every fast weight."""
    return OrderedDict((k, p - rates[k] * grads[k]) for k, p in params.items())


def _adam_update_foreach(params: Mapping[str, Tensor], grads: Mapping[str,
                                                                      Tensor],
                         rates: Mapping[str, Rate], state: AdamState,
                         betas: Tuple[float, float], eps: float
                         ) -> Tuple['OrderedDict[str, Tensor]', AdamState]:
    """:func:`adam_update` with multi-tensor (``torch._foreach``) kernels.

    Same arithmetic, far fewer kernel launches and allocations; only used
    outside autograd and vmap (first-order, sequential), with float rates.
    """
    b1, b2 = betas
    step = state.step + 1
    keys = list(params)
    ps = [params[k] for k in keys]
    gs = [grads[k] for k in keys]
    if state.m:
        ms = [state.m[k] for k in keys]
        vs = [state.v[k] for k in keys]
        if all(id(t) in state.owned for t in ms + vs):
            torch._foreach_lerp_(ms, gs, 1 - b1)
            torch._foreach_mul_(vs, b2)
        else:
            ms, vs = torch._foreach_lerp(ms, gs, 1 - b1), \
                torch._foreach_mul(vs, b2)
        torch._foreach_addcmul_(vs, gs, gs, value=1 - b2)
    else:
        ms = torch._foreach_mul(gs, 1 - b1)
        vs = torch._foreach_mul(gs, gs)
        torch._foreach_mul_(vs, 1 - b2)
    denom = torch._foreach_div(vs, 1 - b2**step)
    torch._foreach_clamp_min_(denom, _V_FLOOR)
    torch._foreach_sqrt_(denom)
    torch._foreach_add_(denom, eps)
    torch._foreach_div_(denom,
                        [float(rates[k]) / (1 - b1**step) for k in keys])
    if all(id(p) in state.owned for p in ps):
        torch._foreach_addcdiv_(ps, ms, denom, value=-1.0)  # our own copies
    else:
        ps = torch._foreach_addcdiv(ps, ms, denom, value=-1.0)
    new = AdamState(
        step=step,
        m=dict(zip(keys, ms)),
        v=dict(zip(keys, vs)),
        owned={id(t)
               for t in ps + ms + vs},
        owned_params=ps)
    return OrderedDict(zip(keys, ps)), new


def _foreach_ok(params: Mapping[str, Tensor], grads: Mapping[str, Tensor],
                rates: Mapping[str, Rate]) -> bool:
    """True where the multi-tensor path gives the same values."""
    tensors = list(params.values()) + list(grads.values())
    return (not torch.is_grad_enabled()
            or not any(t.requires_grad for t in tensors)) and all(
                isinstance(r, float) for r in rates.values()) and not any(
                    torch._C._functorch.is_batchedtensor(t)
                    or torch._C._functorch.is_gradtrackingtensor(t)
                    for t in tensors)


def adam_update(params: Mapping[str, Tensor], grads: Mapping[str, Tensor],
                rates: Mapping[str,
                               Rate], state: AdamState, betas: Tuple[float,
                                                                     float],
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
    if _foreach_ok(params, grads, rates):
        return _adam_update_foreach(params, grads, rates, state, betas, eps)
    b1, b2 = betas
    step = state.step + 1
    bias1, bias2 = 1 - b1**step, 1 - b2**step
    new = AdamState(step=step)
    out = OrderedDict()
    for k, p in params.items():
        g, m, v = grads[k], state.m.get(k), state.v.get(k)
        # few kernels: under vmap every one is a batched op
        m = g * (1 - b1) if m is None else torch.lerp(m, g, 1 - b1)
        v = g * g * (1 - b2) if v is None else torch.addcmul(
            v * b2, g, g, value=1 - b2)
        new.m[k], new.v[k] = m, v
        denom = (v / bias2).clamp_min(_V_FLOOR).sqrt() + eps
        rate = rates[k]
        if isinstance(rate, float):
            out[k] = torch.addcdiv(p, m, denom, value=-rate / bias1)
        else:
            out[k] = p - rate * (m / bias1) / denom
    return out, new


__all__ = ['AdamState', 'adam_update', 'sgd_update']
