"""FAML: Reptile over an encoder, a conditioned generator and a
discriminator."""
from typing import Any, Optional

from metagan_mm.registry import MODELS
from .reptile_gan import ReptileGAN

# FAML's inner loop (phaphuang/FAML, train.py): Adam 2e-4, betas (0.5,
# 0.999), RaGAN, mode seeking and L1 both weighted 1. FAML runs 10 inner
# epochs of 2 D steps then 5 G+E steps; here 10 steps of 2 D updates then
# one G+E update (the inner loop's step), see the README.
FAML_INNER_LOOP = dict(
    steps=10,
    d_steps_per_g_step=2,
    g_lr=2e-4,
    d_lr=2e-4,
    optimizer='adam',
    betas=(0.5, 0.999),
    loss='ragan',
    recon_weight=1.0,
    mode_seeking_weight=1.0)


@MODELS.register_module()
class FAMLGAN(ReptileGAN):
    """FAML (Phaphuangwittayakul et al., "Fast Adaptive Meta-Learning for
    Few-Shot Image Generation", IEEE TMM 2021).

    An encoder embeds each image of a task; the generator takes
    ``[E(x_i), z]``; the inner loop adapts D, then G and E together with
    the relativistic-average GAN loss, a mode-seeking term and an L1
    reconstruction of each image from its own embedding; the outer update is
    Reptile over G, D and E. The inner Adam state starts afresh for every
    task (FAML's code keeps it from task to task), and the L1 term compares
    the generator's ``tanh`` output with the images directly (FAML's code
    applies a ``sigmoid`` to it first). Defaults are FAML's networks and
    inner-loop settings; every one can be overridden.

    Args:
        generator (dict, optional): Default ``FAMLGenerator``.
        discriminator (dict, optional): Default ``FAMLDiscriminator``
            (spectral norm, unconditional).
        encoder (dict, optional): Default ``FAMLEncoder`` (per image).
        inner_loop (dict, optional): Merged over :data:`FAML_INNER_LOOP`.
        **kwargs: See :class:`~metagan_mm.models.MetaGAN`.
    """

    def __init__(self,
                 generator: Optional[dict] = None,
                 discriminator: Optional[dict] = None,
                 encoder: Optional[dict] = None,
                 inner_loop: Optional[dict] = None,
                 **kwargs: Any) -> None:
        super().__init__(
            generator=generator or dict(type='FAMLGenerator'),
            discriminator=discriminator or dict(type='FAMLDiscriminator'),
            encoder=encoder or dict(type='FAMLEncoder'),
            inner_loop={
                **FAML_INNER_LOOP,
                **(inner_loop or {})
            },
            **kwargs)
