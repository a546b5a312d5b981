"""Transfer baseline: one GAN pretrained on all meta-training classes."""
from metagan_mm.registry import MODELS
from .meta_gan import MetaGAN


@MODELS.register_module()
class TransferGAN(MetaGAN):
    """A GAN trained on the images of all meta-training classes:
    ``MetaGAN`` with ``algorithm=dict(type='Pooled')``.

    No meta-learning: every iteration takes one plain GAN step on the
    ``T * N`` images of the meta-batch (D and G gradients at the current
    weights, the inner loop's objective, stepped by the outer optimisers;
    :class:`~metagan_mm.core.Pooled`). For evaluation the pretrained weights
    are fine-tuned on each unseen class's K images by the same inner loop
    (and the same number of steps) as the meta-learners, i.e. the classic
    pretrain-then-fine-tune baseline. Data, configs, checkpoints and the
    few-shot test loop are those of the meta-learners.

    Args: see :class:`MetaGAN`.
    """

    algorithm_type = 'Pooled'
