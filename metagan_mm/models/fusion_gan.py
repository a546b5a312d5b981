"""Local-fusion GANs (the LoFGAN baseline, and meta-learned fusion):
OpenMMLab glue."""
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from metagan_mm.architectures import FUSION_ARCHITECTURES
from metagan_mm.core.fusion import FusionObjective
from metagan_mm.core.objective import G
from metagan_mm.core.params import functional_call
from metagan_mm.registry import MODELS
from .meta_gan import MetaGAN

#: Seeds the shot sets' draw apart from the other uses of a seed.
SHOT_SETS_STREAM = 0x5E75

for _cls in FUSION_ARCHITECTURES + (FusionObjective, ):
    MODELS.register_module(module=_cls)


@MODELS.register_module()
class FusionGAN(MetaGAN):
    """A local-fusion generator and a class-head discriminator, trained by
    any registered algorithm on LoFGAN's losses
    (:class:`~metagan_mm.core.fusion.FusionObjective`).

    The default algorithm, ``Pooled``, is plain fusion training (the
    LoFGAN baseline): every iteration one D and one G gradient step, both
    at the current weights, on one fusion of each task's shots against all
    its images (labelled with the task's seen class, ``class_idx``).
    ``algorithm=dict(type='Reptile')`` (or MAML, MetaSGD) meta-learns the
    same nets, adapting them on each task with the same objective.

    Few-shot generation (:meth:`generate_adapted`, the test loop,
    ``tools/generate.py``) fuses the K shots of a new class; with
    ``steps > 0`` the nets are first adapted on the K shots by the inner
    loop (``model.inner_loop``: steps, rates, Adam) with the objective
    without its class terms (an unseen class has no row in D's class head).

    Args:
        generator (dict): A ``LocalFusionGenerator`` config.
        discriminator (dict): A ``ClassHeadResNetDiscriminator`` config.
        num_classes (int, optional): The seen classes of the training split:
            the size of the discriminator's class head (its
            ``num_classes``, which may be given there instead).
        algorithm (dict): A registered algorithm (default ``Pooled``).
        objective (dict): Default ``FusionObjective`` (LoFGAN's weights).
        fewshot_steps (int): Adaptation steps of few-shot generation when
            none are given (0: fuse the shots with the trained weights).
        fewshot_shots (int, optional): Shots per generation. When given and
            the support holds more images (a pool), each generation fuses
            its own random set of this many pool images, drawn with
            replacement as LoFGAN's evaluation (``main_metric.py``) draws
            them; adaptation (``steps > 0``) uses the whole pool. Default:
            every generation fuses all the support images.
        **kwargs: :class:`~metagan_mm.models.MetaGAN` arguments
            (``data_preprocessor``, ``inner_loop``, ``seed``...).
    """

    def __init__(self,
                 generator: dict,
                 discriminator: dict,
                 num_classes: Optional[int] = None,
                 algorithm: Optional[dict] = None,
                 objective: Optional[dict] = None,
                 fewshot_steps: int = 0,
                 fewshot_shots: Optional[int] = None,
                 **kwargs) -> None:
        if num_classes is not None:
            given = discriminator.get('num_classes')
            if given is not None and given != num_classes:
                raise ValueError(
                    f'model.num_classes={num_classes} but model.'
                    f'discriminator.num_classes={given}; set only one, to '
                    'the number of classes of the training split.')
            discriminator = dict(discriminator, num_classes=num_classes)
        super().__init__(
            generator,
            discriminator,
            algorithm=algorithm or dict(type='Pooled'),
            objective=objective or dict(type='FusionObjective'),
            **kwargs)
        if fewshot_shots is not None and int(fewshot_shots) < 1:
            raise ValueError(
                f'fewshot_shots must be at least 1, got {fewshot_shots}.')
        self.fewshot_steps = fewshot_steps
        self.fewshot_shots = fewshot_shots

    def check_networks(self) -> None:
        """Fusion networks whose image shapes agree."""
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

    @property
    def image_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of shots and generations."""
        return self.generator.input_shape

    def _labels(self, samples: Optional[list]) -> Optional[Tensor]:
        """The tasks' seen classes, checked against D's class head."""
        labels = MetaGAN._labels(samples)
        if labels is None:
            raise ValueError(
                "FusionGAN needs each task's class_idx (its seen class): "
                "use EpisodicDataset with collate_fn=dict(type='episodic_"
                "collate').")
        classes = self.discriminator.num_classes
        if int(labels.max()) >= classes:
            raise ValueError(
                f'class_idx {int(labels.max())} is out of range for the '
                f"discriminator's num_classes={classes}; set "
                'model.num_classes to the number of classes '
                'of the training split.')
        return labels

    def shot_sets(self, support: Tensor, num: int, seed: int = 0) -> Tensor:
        """The shots of each of ``num`` generations, ``[num, K', C, H, W]``.

        All ``K`` support images for every generation, or, with
        ``fewshot_shots`` below ``K``, a random set of ``fewshot_shots`` of
        them per generation, drawn with replacement (LoFGAN's
        ``np.random.choice``) from ``np.random.default_rng([seed,
        SHOT_SETS_STREAM])``, a stream apart from the fusion noise's.

        Args:
            support (Tensor): ``[K, C, H, W]`` images.
            num (int): Generations.
            seed (int): Seed of the draw.

        Returns:
            Tensor: The shots of each generation.
        """
        pool = support.shape[0]
        if self.fewshot_shots is None or self.fewshot_shots >= pool:
            return support[None].expand(num, *support.shape)
        rng = np.random.default_rng([seed, SHOT_SETS_STREAM])
        index = rng.integers(pool, size=(num, self.fewshot_shots))
        return support[torch.from_numpy(index).to(support.device)]

    @torch.no_grad()
    def generate_adapted(self,
                         support: Tensor,
                         num: int,
                         steps: Optional[int] = None,
                         seed: int = 0) -> Tensor:
        """``num`` fusions of the K ``support`` shots, in ``[-1, 1]``.

        Each generation has its own base shot, coefficients and fused
        positions (seeded by ``seed``); with ``K = 1`` every generation is
        the generator's reconstruction of the one shot. With
        ``fewshot_shots`` smaller than K, each generation fuses its own
        random ``fewshot_shots`` of the K images (seeded by ``seed``).

        Args:
            support (Tensor): ``[K, C, H, W]`` normalised shots.
            num (int): Images to generate.
            steps (int, optional): Adaptation steps on the shots (default
                ``fewshot_steps``).
            seed (int): Seed of adaptation and fusion noise.

        Returns:
            Tensor: ``[num, C, H, W]``.
        """
        if support.dim() != 4 or tuple(support.shape[1:]) != self.image_shape:
            raise ValueError(
                f'support must be [K, {", ".join(map(str, self.image_shape))}'
                f'], got {tuple(support.shape)}.')
        steps = self.fewshot_steps if steps is None else steps
        support = support.to(self.device)
        params, buffers = self.adapt(support, steps, seed)
        shots = self.shot_sets(support, num, seed)
        noise = self.generator.sample_noise(
            num, shots.shape[1],
            torch.Generator().manual_seed(seed + 1), self.device)
        was_training = self.generator.training
        self.generator.eval()
        try:
            return functional_call(self.generator, params[G], buffers[G]
                                   or None, (shots, noise))[0]
        finally:
            self.generator.train(was_training)
