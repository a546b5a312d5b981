"""Meta-SGD for GANs: MAML with meta-learned inner learning rates."""
import math
from collections import OrderedDict
from typing import Any, Dict, Mapping

import torch
from torch import Tensor, nn

from ..inner_loop import InnerLoop, Rates
from ..objective import D, E, G
from ..params import TensorDict
from .base import MetaTrainingError, Targets, register_algorithm
from .maml import MAML

_SHORT = {G: 'g', D: 'd', E: 'e'}  # attribute names, as in checkpoints


class InnerRates(nn.Module):
    """Learned inner learning rates, one ``ParameterDict`` per meta-module
    (``g``, ``d``, ``e``; parameter names with ``'/'`` for ``'.'``, which
    ``nn.ParameterDict`` forbids).

    Args:
        rates: Initial rates ``module -> parameter name -> tensor``.
    """

    def __init__(self, rates: Mapping[str, Mapping[str, Tensor]]) -> None:
        super().__init__()
        self.names = list(rates)
        for module, tensors in rates.items():
            self.add_module(
                _SHORT.get(module, module),
                nn.ParameterDict({
                    k.replace('.', '/'):
                    nn.Parameter(v.detach().clone())
                    for k, v in tensors.items()
                }))

    def leaves(self, module: str) -> Dict[str, nn.Parameter]:
        """``network parameter name -> (rate parameter name, rate)``."""
        short = _SHORT.get(module, module)
        return OrderedDict((k.replace('/', '.'), (f'{short}.{k}', v))
                           for k, v in getattr(self, short).items())

    def rates(self) -> Dict[str, TensorDict]:
        """The live rates per meta-module, keyed by parameter name."""
        return {
            m: OrderedDict((k, v) for k, (_, v) in self.leaves(m).items())
            for m in self.names
        }


@register_algorithm
class MetaSGD(MAML):
    """Meta-SGD: learn the init and per-parameter (or per-tensor) inner rates.

    The outer objective is MAML's (see :class:`MAML`); the rates of G get
    the gradient of G's outer loss, those of D of D's outer loss. The rates
    (:class:`InnerRates`, saved with the model as ``inner_rates``) start at
    the config's ``g_lr`` / ``d_lr``; the inner loop uses them clamped to
    ``>= min_lr`` (a rate under the floor gets no gradient), and
    :meth:`after_update` projects them after an outer step. A non-finite
    rate raises :class:`MetaTrainingError` naming the parameter. With
    ``first_order=True`` the rates still get exact first-order gradients
    through ``lr * grad``.

    Args:
        inner: The inner loop whose networks the rates belong to.
        num_support: ``K`` support images per task.
        first_order: Drop second-order terms (see :class:`MAML`).
        per_parameter: One rate per weight element (True) or one scalar rate
            per tensor (False).
        min_lr: Floor of the rates (>= 0).
        separate_disc_adaptation: DAWSON-style D for G's outer loss.
        adapt_without_label: Adapt without the task's label (see
            :class:`MAML`).
    """

    def __init__(self,
                 inner: InnerLoop,
                 num_support: int,
                 first_order: bool = False,
                 per_parameter: bool = True,
                 min_lr: float = 0.0,
                 separate_disc_adaptation: bool = False,
                 adapt_without_label: bool = False) -> None:
        if not (isinstance(min_lr, (int, float)) and math.isfinite(min_lr)
                and min_lr >= 0):
            raise ValueError(
                f'min_lr={min_lr!r} must be a finite number >= 0.')
        super().__init__(num_support, first_order, separate_disc_adaptation,
                         adapt_without_label)
        self.min_lr = float(min_lr)
        self.inner_rates = InnerRates({
            n: {
                k:
                torch.full(
                    p.shape if per_parameter else (),
                    inner.cfg.lr(n),
                    dtype=p.dtype,
                    device=p.device)
                for k, p in params.items()
            }
            for n, params in inner.meta_params().items()
        })

    @classmethod
    def build(cls, inner: InnerLoop, **options: Any) -> 'MetaSGD':
        """Rates shaped like ``inner``'s networks."""
        return cls(inner, **options)

    def modules(self) -> Dict[str, nn.Module]:
        """The rates: a meta-module stepped by
        ``optim_wrapper.inner_rates``."""
        return {'inner_rates': self.inner_rates}

    def rates(self) -> Rates:
        """The live rates, clamped to ``>= min_lr``."""
        return {
            m: OrderedDict((k, r.clamp_min(self.min_lr))
                           for k, r in rates.items())
            for m, rates in self.inner_rates.rates().items()
        }

    def adaptation_rates(self) -> Rates:
        """The clamped rates, detached."""
        return {
            m: {
                k: r.detach()
                for k, r in rates.items()
            }
            for m, rates in self.rates().items()
        }

    def targets(self, inner: InnerLoop) -> Targets:
        """MAML's, plus each network's rates for its outer loss (the
        encoder's for G's)."""
        targets = super().targets(inner)
        for modules in (targets.d, targets.g):
            modules['inner_rates'] = OrderedDict(
                leaf for m in list(modules)
                for leaf in self.inner_rates.leaves(m).values())
        return targets

    def prepare(self, inner: InnerLoop) -> None:
        """Check the rates before a meta-batch."""
        self.check_rates(inner)

    def check_rates(self, inner: InnerLoop) -> None:
        """Raise on rates that do not fit the networks or are not finite.

        Raises:
            ValueError: A parameter has no rate, or its rate's shape does
                not broadcast to it.
            MetaTrainingError: A rate is NaN/Inf.
        """
        self._check_finite()
        rates = self.inner_rates.rates()
        for module, params in inner.meta_params().items():
            missing = [k for k in params if k not in rates.get(module, {})]
            if missing:
                raise ValueError(f'inner_rates lacks {module} rates for '
                                 f'{missing}; the networks changed since '
                                 'MetaSGD was built.')
            for k, r in rates[module].items():
                try:
                    torch.broadcast_shapes(r.shape, params[k].shape)
                except RuntimeError as err:
                    raise ValueError(f'inner_rates {module}[{k!r}] shape '
                                     f'{tuple(r.shape)} does not broadcast '
                                     'to its parameter.') from err

    def _check_finite(self, when: str = '') -> None:
        for module, rates in self.inner_rates.rates().items():
            for k, r in rates.items():
                if not bool(torch.isfinite(r.detach()).all()):
                    raise MetaTrainingError(
                        f'Meta-SGD stopped: the {module} rates of {k!r} have '
                        f'non-finite learning rates{when}; lower the outer '
                        'learning rate or re-initialise the rates. The last '
                        'checkpoint is intact.')

    def after_update(self) -> Dict[str, Tensor]:
        """Clamp the rates to ``>= min_lr`` (stop if one is not finite) and
        return their mean/min/max per network."""
        self._check_finite(' after the outer step')
        out = {}
        with torch.no_grad():
            for module, rates in self.inner_rates.rates().items():
                for r in rates.values():
                    r.clamp_(min=self.min_lr)
                flat = torch.cat([r.flatten() for r in rates.values()])
                short = _SHORT.get(module, module)
                out[f'inner_lr_{short}_mean'] = flat.mean()
                out[f'inner_lr_{short}_min'] = flat.min()
                out[f'inner_lr_{short}_max'] = flat.max()
        return out
