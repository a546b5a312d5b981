"""Meta-SGD for GANs: MAML with meta-learned inner learning rates."""
import math
from collections import OrderedDict
from typing import Any, Dict, Mapping, Optional, Tuple

import torch
from torch import Tensor

from ..inner_loop import InnerLoop
from .common import TensorDict
from .maml import MAML


class MetaSGD:
    """Meta-SGD: learn the init and per-parameter (or per-tensor) inner rates.

    The outer objective is MAML's (see :class:`MAML`); the rates of G get
    the gradient of G's outer loss, those of D of D's outer loss. Rates are
    clamped to ``>= min_lr`` in the forward pass (a rate under the floor gets
    no gradient) and :meth:`clamp_rates_` projects them after an optimiser
    step. Non-finite rates raise a ValueError naming the parameter. With
    ``first_order=True`` the rates still get exact first-order gradients
    through ``lr * grad``.

    Args:
        num_support: ``K`` support images per task.
        first_order: Drop second-order terms (see :class:`MAML`).
        per_parameter: One rate per weight element (True) or one scalar rate
            per tensor (False).
        min_lr: Floor of the rates (>= 0).
        separate_disc_adaptation: DAWSON-style D for G's outer loss.
    """

    def __init__(self, num_support: int, first_order: bool = False,
                 per_parameter: bool = True, min_lr: float = 0.0,
                 separate_disc_adaptation: bool = False) -> None:
        if not (isinstance(min_lr, (int, float)) and math.isfinite(min_lr)
                and min_lr >= 0):
            raise ValueError(f'min_lr={min_lr!r} must be a finite number >= 0.')
        self.maml = MAML(num_support, first_order, separate_disc_adaptation)
        self.per_parameter = bool(per_parameter)
        self.min_lr = float(min_lr)

    def init_rates(self, inner_loop: InnerLoop) -> Tuple[TensorDict, TensorDict]:
        """Return new leaf rate tensors (requires_grad) set to cfg's lrs.

        Shapes are the parameter shapes (per-parameter) or ``()``.
        """
        g0, d0 = inner_loop.meta_params()
        cfg = inner_loop.cfg
        return (self._init(g0, cfg.g_lr), self._init(d0, cfg.d_lr))

    def _init(self, params: Mapping[str, Tensor], lr: float) -> TensorDict:
        out = OrderedDict()
        for k, p in params.items():
            shape = p.shape if self.per_parameter else ()
            out[k] = torch.full(shape, float(lr), dtype=p.dtype,
                                device=p.device, requires_grad=True)
        return out

    def check_rates(self, inner_loop: InnerLoop, g_lrs: Mapping[str, Tensor],
                    d_lrs: Mapping[str, Tensor]) -> None:
        """Raise a ValueError on missing, misshaped or non-finite rates."""
        g0, d0 = inner_loop.meta_params()
        for which, params, rates in (('g_lrs', g0, g_lrs), ('d_lrs', d0, d_lrs)):
            missing = [k for k in params if k not in rates]
            if missing:
                raise ValueError(f'{which} lacks rates for {missing}; create '
                                 'them with MetaSGD.init_rates(inner_loop).')
            for k, r in rates.items():
                if not bool(torch.isfinite(r.detach()).all()):
                    raise ValueError(
                        f'{which}[{k!r}] has non-finite learning rates; lower '
                        'the outer learning rate or re-initialise the rates.')
                try:
                    torch.broadcast_shapes(r.shape, params[k].shape)
                except (RuntimeError, KeyError) as err:
                    raise ValueError(f'{which}[{k!r}] shape {tuple(r.shape)} '
                                     'does not broadcast to its parameter.'
                                     ) from err

    def clamp_rates_(self, *rate_dicts: Mapping[str, Tensor]) -> None:
        """In place: clamp every rate to ``>= min_lr`` (call after a step)."""
        with torch.no_grad():
            for rates in rate_dicts:
                for r in rates.values():
                    r.clamp_(min=self.min_lr)

    def sample_randomness(self, inner_loop: InnerLoop, num_tasks: int,
                          n_images: int, noise_dim: Optional[int] = None,
                          generator: Optional[torch.Generator] = None
                          ) -> Dict[str, Any]:
        """Same as :meth:`MAML.sample_randomness`."""
        return self.maml.sample_randomness(inner_loop, num_tasks, n_images,
                                           noise_dim, generator)

    def meta_gradients(self, inner_loop: InnerLoop, tasks: Tensor,
                       rand: Dict[str, Any], g_lrs: TensorDict,
                       d_lrs: TensorDict, batched: bool = True
                       ) -> Tuple[TensorDict, TensorDict, Dict[str, Any]]:
        """Meta-gradients for the init and the rates.

        Args:
            inner_loop: Inner loop holding G, D and the config.
            tasks: ``[T, N, C, H, W]`` (support = first ``num_support``).
            rand: From :meth:`sample_randomness`.
            g_lrs: G rates (leaf tensors with requires_grad).
            d_lrs: D rates.
            batched: Use the vmap path (falls back automatically).

        Returns:
            ``(g_grads, d_grads, logs)`` as :meth:`MAML.meta_gradients`, with
            the rate gradients in ``logs['g_lr_grads']`` and
            ``logs['d_lr_grads']`` (keyed by parameter name).
        """
        self.check_rates(inner_loop, g_lrs, d_lrs)
        for which, rates in (('g_lrs', g_lrs), ('d_lrs', d_lrs)):
            if not all(r.requires_grad for r in rates.values()):
                raise ValueError(f'{which} must require grad to be learned; '
                                 'use MetaSGD.init_rates(inner_loop).')
        g_eff = self._effective(g_lrs)
        d_eff = self._effective(d_lrs)
        g_grads, d_grads, logs = self.maml.meta_gradients(
            inner_loop, tasks, rand, batched, g_eff, d_eff)
        logs['g_lr_grads'] = self._rate_grads(logs.get('g_lr_grads'), g_lrs)
        logs['d_lr_grads'] = self._rate_grads(logs.get('d_lr_grads'), d_lrs)
        return g_grads, d_grads, logs

    def _effective(self, rates: Mapping[str, Tensor]) -> TensorDict:
        return OrderedDict((k, r.clamp_min(self.min_lr)) for k, r in rates.items())

    def _rate_grads(self, grads: Optional[TensorDict],
                    rates: Mapping[str, Tensor]) -> TensorDict:
        """Gradients w.r.t. the raw rates (zero where clamped)."""
        grads = grads or {}
        out = OrderedDict()
        for k, r in rates.items():
            g = grads.get(k, torch.zeros_like(r)).detach()
            out[k] = g * (r.detach() >= self.min_lr).to(g.dtype)
        return out
