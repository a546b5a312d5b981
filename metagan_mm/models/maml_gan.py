"""MAML meta-GAN (first/second order, DAWSON's separate discriminators)."""
from typing import Any, Dict

import torch
from mmengine.logging import print_log

from metagan_mm.core import MAML, MetaAlgorithm, MetaTrainingError
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
        oom_fallback (bool): When second-order MAML runs out of GPU memory
            (its memory grows with the inner steps), log a warning and go on
            with gradient checkpointing of the inner steps
            (``inner_loop.grad_checkpoint``, same values), and if that runs
            out of memory too, first order for the rest of training; False
            stops with an error that names the options.
        **kwargs: See :class:`BaseMetaGAN`.
    """

    def __init__(self,
                 *args: Any,
                 num_support: int = 4,
                 first_order: bool = False,
                 separate_disc_adaptation: bool = False,
                 oom_fallback: bool = True,
                 **kwargs: Any) -> None:
        self.oom_fallback = oom_fallback
        self._options = dict(
            num_support=num_support,
            first_order=first_order,
            separate_disc_adaptation=separate_disc_adaptation)
        super().__init__(*args, **kwargs)

    def build_algorithm(self) -> MetaAlgorithm:
        """MAML with this model's options."""
        return MAML(**self._options)

    def train_step(self, data: dict, optim_wrapper: Any) -> Dict[str, Any]:
        """One meta-iteration; on OOM, checkpointing, then first order."""
        try:
            return super().train_step(data, optim_wrapper)
        except torch.OutOfMemoryError as err:
            if self.algorithm.first_order or not self.oom_fallback:
                raise MetaTrainingError(
                    f'{type(self).__name__} ran out of memory ({err}). Lower '
                    'the meta-batch (train_dataloader.batch_size) or '
                    'inner_loop.steps, set model.inner_loop.grad_checkpoint='
                    'True (second order in less memory), or set '
                    'model.first_order=True (its memory does not grow with '
                    'the inner steps).') from None
        if not self.inner_loop.cfg.grad_checkpoint:
            self.inner_loop = self.inner_loop.replace(grad_checkpoint=True)
            if self.inner_loop.checkpointing(True):  # False with buffers
                self._release_memory(
                    'second-order MAML ran out of memory; continuing with '
                    'gradient checkpointing of the inner steps (model.'
                    'inner_loop.grad_checkpoint=True): same values, less '
                    'memory, slower.')
                try:
                    return super().train_step(data, optim_wrapper)
                except torch.OutOfMemoryError:
                    pass
        self._release_memory(
            'second-order MAML ran out of memory; continuing FIRST ORDER '
            '(model.first_order=True) from here. Set model.oom_fallback='
            'False to stop instead.')
        self.algorithm.first_order = True
        return super().train_step(data, optim_wrapper)

    @staticmethod
    def _release_memory(message: str) -> None:
        print_log(message, logger='current', level=30)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
