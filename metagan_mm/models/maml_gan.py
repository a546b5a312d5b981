"""MAML meta-GAN (first/second order, DAWSON's separate discriminators)."""
from metagan_mm.registry import MODELS
from .meta_gan import MetaGAN


@MODELS.register_module()
class MAMLGAN(MetaGAN):
    """MAML over a GAN (DAWSON, Liang et al. 2020, for the generative case):
    ``MetaGAN`` with ``algorithm=dict(type='MAML', ...)``.

    Each task's images are split into ``num_support`` support images (the
    first ones; the episodic dataset's ``k_shot``) and query images (its
    ``num_query``).  G and D are adapted on the support images; the outer
    GAN losses are computed on the query images with the adapted weights and
    back-propagated to the meta-weights, through the inner steps unless
    ``first_order``. Second order that runs out of memory falls back as
    ``oom_fallback`` says (see :class:`MetaGAN`).

    Args:
        num_support (int): Support images per task (= dataset ``k_shot``).
        first_order (bool): Drop second-order terms (FOMAML).
        separate_disc_adaptation (bool): DAWSON's option: the discriminator
            used for the generator's outer loss is adapted separately on the
            query half, the generator's on the support half.
        **kwargs: See :class:`MetaGAN`.
    """

    algorithm_type = 'MAML'
