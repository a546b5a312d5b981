"""Meta-SGD meta-GAN: MAML with meta-learned inner learning rates."""
from typing import Any

from metagan_mm.core import MetaAlgorithm, MetaSGD
from metagan_mm.registry import MODELS
from .maml_gan import MAMLGAN


@MODELS.register_module()
class MetaSGDGAN(MAMLGAN):
    """Meta-SGD (Li et al. 2017) over a GAN, on MAML's outer objective.

    Besides the initialisation, every inner learning rate of G and D (one per
    weight element, or one per tensor with ``per_parameter=False``) is
    meta-learned.  The rates start at ``inner_loop.g_lr`` / ``d_lr``, live in
    ``self.inner_rates`` (owned by :class:`~metagan_mm.core.MetaSGD`, saved
    in checkpoints, restored on resume) and are stepped by
    ``optim_wrapper.inner_rates``.  After every outer step, rates below
    ``min_lr`` are **clamped** to it; a non-finite rate **stops training**
    with :class:`MetaTrainingError` naming the parameter (the last
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
        self._rate_options = dict(per_parameter=per_parameter, min_lr=min_lr)
        super().__init__(*args, **kwargs)

    def build_algorithm(self) -> MetaAlgorithm:
        """Meta-SGD with this model's options; it owns the rates."""
        return MetaSGD(self.inner_loop, **self._options, **self._rate_options)
