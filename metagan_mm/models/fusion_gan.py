"""Plain local-fusion GAN (the LoFGAN baseline): OpenMMLab glue."""
from typing import Dict, Optional, Tuple

import torch
from mmagic.models.base_models import BaseGAN
from mmengine import dist
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapperDict
from torch import Tensor, nn

from metagan_mm.architectures import FUSION_ARCHITECTURES
from metagan_mm.core import MetaTrainingError
from metagan_mm.core.algorithms.fusion import FusionTraining, task_noise
from metagan_mm.registry import MODELS
from .base_meta_gan import BaseMetaGAN
from .fewshot_mixin import FewShotMixin

for _cls in FUSION_ARCHITECTURES:
    MODELS.register_module(module=_cls)


@MODELS.register_module()
class FusionGAN(FewShotMixin, BaseGAN):
    """A local-fusion generator and a class-head discriminator trained
    plainly on episodic tasks (LoFGAN's step,
    :class:`~metagan_mm.core.algorithms.fusion.FusionTraining`).

    Every iteration takes one D step then one G step on the meta-batch of
    tasks (``[T, N, C, H, W]``; all ``N`` images of a task are its shots;
    ``data_samples`` give each task's ``class_idx``, its seen class, and
    ``task_index``, which seeds its fusion noise). Gradients are averaged
    across ranks before each step, so ``W`` ranks of ``T`` tasks equal one
    rank of ``W * T``.

    Few-shot generation (:meth:`generate_adapted`, the test loop,
    ``tools/generate.py``) fuses the K shots of a new class; with
    ``steps > 0`` it first fine-tunes copies of G and D on them
    (:meth:`FusionTraining.finetune`).

    Args:
        generator (dict): A ``LocalFusionGenerator`` config.
        discriminator (dict): A ``ClassHeadResNetDiscriminator`` config
            (``num_classes``: the seen classes of the training split).
        data_preprocessor (dict, optional): mmagic ``DataPreprocessor``.
        losses (dict, optional): Loss weights
            (:class:`~metagan_mm.core.fusion.FusionLosses` fields).
        finetune_lr (float): Adam learning rate of few-shot fine-tuning.
        steps (int): Default fine-tuning steps of few-shot generation (0:
            fuse the shots with the trained weights).
        seed (int): Seed of the per-task fusion noise.
    """

    def __init__(self,
                 generator: dict,
                 discriminator: dict,
                 data_preprocessor: Optional[dict] = None,
                 losses: Optional[dict] = None,
                 finetune_lr: float = 1e-4,
                 steps: int = 0,
                 seed: int = 0) -> None:
        super().__init__(
            generator=generator,
            discriminator=discriminator,
            data_preprocessor=data_preprocessor)
        for role, net in (('generator', self.generator), ('discriminator',
                                                          self.discriminator)):
            if not isinstance(net, FUSION_ARCHITECTURES):
                raise TypeError(
                    f'FusionGAN needs fusion networks; the {role} is '
                    f'{type(net).__name__}. Use LocalFusionGenerator and '
                    'ClassHeadResNetDiscriminator.')
        if self.generator.input_shape != self.discriminator.input_shape:
            raise ValueError(
                f'the generator makes {self.generator.input_shape} images '
                f'but the discriminator takes '
                f'{self.discriminator.input_shape}; use the same scale and '
                'channels.')
        self.algorithm = FusionTraining(**(losses or {}))
        self.finetune_lr = finetune_lr
        self.steps = steps
        self.seed = seed

    @property
    def image_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of shots and generations."""
        return self.generator.input_shape

    # ------------------------------------------------------------ training
    def _labels(self, samples: list, num_tasks: int) -> Tensor:
        if not samples or 'class_idx' not in samples[0].metainfo:
            raise ValueError(
                'FusionGAN needs each task\'s class_idx (its seen class): '
                "use EpisodicDataset with collate_fn=dict(type='episodic_"
                "collate').")
        labels = torch.tensor(
            [int(s.metainfo['class_idx']) for s in samples[:num_tasks]],
            device=self.device)
        classes = self.discriminator.num_classes
        if int(labels.max()) >= classes:
            raise ValueError(
                f'class_idx {int(labels.max())} is out of range for the '
                f'discriminator\'s num_classes={classes}; set '
                'model.discriminator.num_classes to the number of classes '
                'of the training split.')
        return labels

    def _step(self, wrapper, module: nn.Module, loss: Tensor) -> None:
        """Backward, average the gradients across ranks, step."""
        wrapper.backward(loss)
        if dist.get_world_size() > 1:
            for p in module.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad, op='mean')
        wrapper.step()
        wrapper.zero_grad()

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One D step, then one G step, on the tasks in ``data``."""
        curr_iter = MessageHub.get_current_instance().get_info('iter') or 0
        samples = data.get('data_samples')
        tasks = self.data_preprocessor(data, True)['inputs']
        if tasks.dim() != 5:
            raise ValueError(
                'FusionGAN expects a meta-batch of tasks shaped [tasks, '
                f'images, C, H, W], got {tuple(tasks.shape)}. Use '
                "EpisodicDataset with collate_fn=dict(type='episodic_collate')"
                '.')
        labels = self._labels(samples, tasks.shape[0])
        noise = task_noise(
            self.generator,
            BaseMetaGAN._task_indices(samples, tasks.shape[0], curr_iter),
            tasks.shape[1], self.seed)
        logs = {}
        steps = (('discriminator', self.algorithm.d_loss, self.discriminator,
                  self.generator), ('generator', self.algorithm.g_loss,
                                    self.generator, self.discriminator))
        for name, loss_fn, module, other in steps:
            wrapper = optim_wrapper[name]
            other.requires_grad_(False)  # only the stepped net's gradients
            try:
                with wrapper.optim_context(module):
                    loss, terms = loss_fn(self.generator, self.discriminator,
                                          tasks, labels, noise[name[0]])
            finally:
                other.requires_grad_(True)
            if not torch.isfinite(loss):
                raise MetaTrainingError(
                    f'iteration {curr_iter + 1}: the {name} loss is not '
                    f'finite ({ {k: float(v) for k, v in terms.items()} }). '
                    'The weights were not updated and the last checkpoint '
                    'is intact. Lower the learning rates or check the data.')
            self._step(wrapper, module, loss)
            logs.update({f'loss_{k}': v for k, v in terms.items()})
        return logs

    # ------------------------------------------------------------ few-shot
    def adapt(self,
              support: Tensor,
              steps: Optional[int] = None,
              seed: int = 0) -> nn.Module:
        """The generator for ``support`` (``[K, C, H, W]`` in ``[-1, 1]``):
        the trained one for ``steps=0``, else a copy fine-tuned on the
        shots for ``steps`` D and G updates (the trained weights are
        unchanged)."""
        steps = self.steps if steps is None else steps
        if steps == 0:
            return self.generator
        return self.algorithm.finetune(self.generator, self.discriminator,
                                       support.to(self.device), steps,
                                       self.finetune_lr,
                                       torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def generate_adapted(self,
                         support: Tensor,
                         num: int,
                         steps: Optional[int] = None,
                         seed: int = 0) -> Tensor:
        """``num`` fusions of the K ``support`` shots, in ``[-1, 1]``.

        Each generation has its own base shot, coefficients and fused
        positions (seeded by ``seed``); with ``K = 1`` every generation is
        the generator's reconstruction of the one shot.

        Args:
            support (Tensor): ``[K, C, H, W]`` normalised shots.
            num (int): Images to generate.
            steps (int, optional): Fine-tuning steps (default
                ``model.steps``).
            seed (int): Seed of fine-tuning and fusion noise.

        Returns:
            Tensor: ``[num, C, H, W]``.
        """
        if support.dim() != 4 or tuple(support.shape[1:]) != self.image_shape:
            raise ValueError(
                f'support must be [K, {", ".join(map(str, self.image_shape))}'
                f'], got {tuple(support.shape)}.')
        generator = self.adapt(support, steps, seed)
        k = support.shape[0]
        noise = generator.sample_noise(num, k,
                                       torch.Generator().manual_seed(seed + 1),
                                       self.device)
        shots = support.to(self.device)[None].expand(num, *support.shape)
        was_training = generator.training
        generator.eval()
        try:
            return generator(shots, noise)[0]
        finally:
            generator.train(was_training)
