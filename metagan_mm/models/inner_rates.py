"""Learned inner learning rates held as model parameters."""
from collections import OrderedDict
from typing import Dict, Mapping, Tuple

import torch
from torch import Tensor, nn

_SEP = '/'  # parameter names contain '.', which nn.ParameterDict forbids


class InnerRates(nn.Module):
    """Per-parameter (or per-tensor) inner learning rates of G and D.

    Rates are ``nn.Parameter``\\ s, so they are saved in checkpoints, restored
    on resume, and stepped by their own optimizer wrapper
    (``optim_wrapper.inner_rates``).

    Args:
        g_rates (Mapping[str, Tensor]): Initial G rates by parameter name.
        d_rates (Mapping[str, Tensor]): Initial D rates by parameter name.
    """

    def __init__(self, g_rates: Mapping[str, Tensor],
                 d_rates: Mapping[str, Tensor]) -> None:
        super().__init__()
        self.g = nn.ParameterDict({
            k.replace('.', _SEP): nn.Parameter(v.detach().clone())
            for k, v in g_rates.items()
        })
        self.d = nn.ParameterDict({
            k.replace('.', _SEP): nn.Parameter(v.detach().clone())
            for k, v in d_rates.items()
        })

    @staticmethod
    def _named(params: nn.ParameterDict) -> Dict[str, Tensor]:
        return OrderedDict(
            (k.replace(_SEP, '.'), v) for k, v in params.items())

    def rates(self) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
        """``(g_rates, d_rates)`` keyed by the networks' parameter names."""
        return self._named(self.g), self._named(self.d)

    def write_grads(self, g_grads: Mapping[str, Tensor],
                    d_grads: Mapping[str, Tensor]) -> None:
        """Set ``.grad`` of every rate from gradients keyed by param name."""
        for params, grads in ((self.g, g_grads), (self.d, d_grads)):
            for key, param in params.items():
                grad = grads.get(key.replace(_SEP, '.'))
                param.grad = None if grad is None else grad.detach().clone()

    @torch.no_grad()
    def stats(self) -> Dict[str, Tensor]:
        """Mean, min and max rate of each network, for logging."""
        out = {}
        for name, params in (('g', self.g), ('d', self.d)):
            flat = torch.cat([p.flatten() for p in params.values()])
            out[f'inner_lr_{name}_mean'] = flat.mean()
            out[f'inner_lr_{name}_min'] = flat.min()
            out[f'inner_lr_{name}_max'] = flat.max()
        return out
