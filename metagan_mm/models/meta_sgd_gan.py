"""Meta-SGD meta-GAN: MAML with meta-learned inner learning rates."""
from metagan_mm.registry import MODELS
from .meta_gan import MetaGAN


@MODELS.register_module()
class MetaSGDGAN(MetaGAN):
    """Meta-SGD (Li et al. 2017) over a GAN, on MAML's outer objective:
    ``MetaGAN`` with ``algorithm=dict(type='MetaSGD', ...)``.

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
        num_support, first_order, separate_disc_adaptation: See
            :class:`MAMLGAN`.
        per_parameter (bool): One rate per weight element (True) or per
            tensor (False).
        min_lr (float): Floor of the rates (>= 0).
        **kwargs: See :class:`MetaGAN`.
    """

    algorithm_type = 'MetaSGD'
