"""Transfer baseline: one GAN pretrained on all meta-training classes."""
from metagan_mm.core import MetaAlgorithm, Pooled
from metagan_mm.registry import MODELS
from .base_meta_gan import BaseMetaGAN


@MODELS.register_module()
class TransferGAN(BaseMetaGAN):
    """A GAN trained on the pooled images of all meta-training classes.

    No meta-learning: every iteration pools the ``T * N`` images of the
    meta-batch and takes one plain GAN step (D and G gradients at the
    current weights, the inner loop's loss, stepped by the outer
    optimisers; :class:`~metagan_mm.core.Pooled`). For evaluation the
    pretrained weights are fine-tuned on each unseen class's K images by the
    same inner loop (and the same number of steps) as the meta-learners,
    i.e. the classic pretrain-then-fine-tune baseline. Data, configs,
    checkpoints and the few-shot test loop are those of the meta-learners.

    Args: see :class:`BaseMetaGAN`.
    """

    def build_algorithm(self) -> MetaAlgorithm:
        """Pooled GAN gradients."""
        return Pooled()
