"""Reptile meta-GAN (FIGR)."""
from metagan_mm.registry import MODELS
from .meta_gan import MetaGAN


@MODELS.register_module()
class ReptileGAN(MetaGAN):
    """Reptile over a GAN, as in FIGR (Clouâtre and Demers, 2019):
    ``MetaGAN`` with ``algorithm=dict(type='Reptile')``.

    Per meta-iteration a copy of G and D is adapted to each task of the
    meta-batch (all ``N`` images of the task are used), then the
    meta-gradient ``theta - mean_t(theta_t)`` is written into ``.grad`` and
    the outer optimisers step (Adam, lr 1e-4 in FIGR). Reptile's update is
    not the gradient of an objective w.r.t. inner learning rates, so it does
    not learn them; use :class:`MetaSGDGAN` for learned rates.

    Args: see :class:`MetaGAN`.
    """

    algorithm_type = 'Reptile'
