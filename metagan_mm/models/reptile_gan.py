"""Reptile meta-GAN (FIGR)."""
from metagan_mm.core import MetaAlgorithm, Reptile
from metagan_mm.registry import MODELS
from .base_meta_gan import BaseMetaGAN


@MODELS.register_module()
class ReptileGAN(BaseMetaGAN):
    """Reptile over a GAN, as in FIGR (Clouâtre and Demers, 2019).

    Per meta-iteration a copy of G and D is adapted to each task of the
    meta-batch (all ``N`` images of the task are used), then the
    meta-gradient ``theta - mean_t(theta_t)`` is written into ``.grad`` and
    the outer optimisers step (Adam, lr 1e-4 in FIGR). Reptile's update is
    not the gradient of an objective w.r.t. inner learning rates, so it does
    not learn them; use :class:`MetaSGDGAN` for learned rates.

    Args: see :class:`BaseMetaGAN`.
    """

    def build_algorithm(self) -> MetaAlgorithm:
        """Reptile needs no options."""
        return Reptile()
