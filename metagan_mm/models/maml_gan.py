"""MAML meta-GAN (first/second order, DAWSON's separate discriminators)."""
from typing import Any, Optional

from metagan_mm.core import MAML
from metagan_mm.registry import MODELS

from .base_meta_gan import BaseMetaGAN


@MODELS.register_module()
class MAMLGAN(BaseMetaGAN):
    """MAML over a GAN (DAWSON, Liang et al. 2020, for the generative case).

    Each task's images are split into ``num_support`` support images (the
    first ones; the episodic dataset's ``k_shot``) and query images (its
    ``num_query``).  G and D are adapted on the support images; the outer
    GAN losses are computed on the query images with the adapted weights and
    back-propagated to the meta-weights, through the inner steps unless
    ``first_order``.

    Args:
        num_support (int): Support images per task (= dataset ``k_shot``).
        first_order (bool): Drop second-order terms (FOMAML).
        separate_disc_adaptation (bool): DAWSON's option: the discriminator
            used for the generator's outer loss is adapted separately on the
            query half, the generator's on the support half.
        **kwargs: See :class:`BaseMetaGAN`.
    """

    def __init__(self,
                 *args: Any,
                 num_support: int = 4,
                 first_order: bool = False,
                 separate_disc_adaptation: bool = False,
                 **kwargs: Any) -> None:
        self.num_support = num_support
        self.first_order = first_order
        self.separate_disc_adaptation = separate_disc_adaptation
        super().__init__(*args, **kwargs)

    def build_algorithm(self) -> Any:
        """MAML with this model's options."""
        return MAML(self.num_support, self.first_order,
                    self.separate_disc_adaptation)

    def algorithm_kwargs(self, data_samples: Optional[list]) -> dict:
        """Check that the data's ``k_shot`` is the model's ``num_support``."""
        if data_samples:
            k_shot = data_samples[0].metainfo.get('k_shot')
            if k_shot is not None and int(k_shot) != self.num_support:
                raise ValueError(
                    f'the tasks have k_shot={k_shot} support images but '
                    f'model.num_support={self.num_support}; set both to the '
                    'same value.')
        return {}
