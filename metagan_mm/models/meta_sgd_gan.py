"""Meta-SGD meta-GAN: MAML with meta-learned inner learning rates."""
from typing import Any, Dict, Optional, Tuple

import torch
from torch import Tensor

from metagan_mm.core import MetaSGD
from metagan_mm.registry import MODELS

from .base_meta_gan import MetaTrainingError
from .inner_rates import InnerRates
from .maml_gan import MAMLGAN


@MODELS.register_module()
class MetaSGDGAN(MAMLGAN):
    """Meta-SGD (Li et al. 2017) over a GAN, on MAML's outer objective.

    Besides the initialisation, every inner learning rate of G and D (one per
    weight element, or one per tensor with ``per_parameter=False``) is
    meta-learned.  The rates start at ``inner_loop.g_lr`` / ``d_lr``, live in
    ``self.inner_rates`` (saved in checkpoints, restored on resume) and are
    stepped by ``optim_wrapper.inner_rates``.  After every outer step, rates
    below ``min_lr`` are **clamped** to it; a non-finite rate **stops
    training** with :class:`MetaTrainingError` naming the parameter (the last
    checkpoint stays intact).  Mean/min/max rates are logged.

    Args:
        per_parameter (bool): One rate per weight element (True) or per
            tensor (False).
        min_lr (float): Floor of the rates (>= 0).
        **kwargs: See :class:`MAMLGAN`.
    """

    def __init__(self,
                 *args: Any,
                 per_parameter: bool = True,
                 min_lr: float = 0.0,
                 **kwargs: Any) -> None:
        self.per_parameter = per_parameter
        self.min_lr = min_lr
        super().__init__(*args, **kwargs)
        self.inner_rates = InnerRates(*self.algorithm.init_rates(
            self.inner_loop))

    def build_algorithm(self) -> Any:
        """Meta-SGD with this model's options."""
        return MetaSGD(self.num_support, self.first_order, self.per_parameter,
                       self.min_lr, self.separate_disc_adaptation)

    def algorithm_kwargs(self, data_samples: Optional[list]) -> dict:
        """Pass the live rates so they receive gradients."""
        kwargs = super().algorithm_kwargs(data_samples)
        g_lrs, d_lrs = self._checked_rates()
        kwargs.update(g_lrs=g_lrs, d_lrs=d_lrs)
        return kwargs

    def _checked_rates(self) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
        """The live rates; :class:`MetaTrainingError` if any is not finite."""
        g_lrs, d_lrs = self.inner_rates.rates()
        try:
            self.algorithm.check_rates(self.inner_loop, g_lrs, d_lrs)
        except ValueError as err:
            raise MetaTrainingError(
                f'Meta-SGD stopped: {err} Training stops here; the last '
                'checkpoint is intact.') from None
        return g_lrs, d_lrs

    def meta_extra_modules(self) -> Tuple[torch.nn.Module, ...]:
        """The rates hold meta-gradients too."""
        return (self.inner_rates, )

    def outer_optimizer_names(self) -> Tuple[str, ...]:
        """G, D and the rates."""
        return ('generator', 'discriminator', 'inner_rates')

    def write_extra_grads(self, logs: Dict[str, Any]) -> None:
        """Rate gradients come back in the algorithm's logs."""
        self.inner_rates.write_grads(logs['g_lr_grads'], logs['d_lr_grads'])

    def after_meta_step(self, logs: Dict[str, Any]) -> Dict[str, Tensor]:
        """Clamp the rates, stop on non-finite ones, log their statistics."""
        g_lrs, d_lrs = self._checked_rates()
        self.algorithm.clamp_rates_(g_lrs, d_lrs)
        return self.inner_rates.stats()

    def adaptation_rates(self) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
        """The learned rates (detached, clamped) for few-shot adaptation."""
        g_lrs, d_lrs = self.inner_rates.rates()
        return ({k: v.detach().clamp_min(self.min_lr)
                 for k, v in g_lrs.items()},
                {k: v.detach().clamp_min(self.min_lr)
                 for k, v in d_lrs.items()})
