"""Plain local-fusion GAN training (LoFGAN's step) and fine-tuning of a
trained pair on K shots (torch only).

Not a :class:`~metagan_mm.core.algorithms.base.MetaAlgorithm`: LoFGAN's
iteration steps D, then computes G's loss against the *updated* D, so its
two gradients are not taken at one point, which the ``meta_gradients``
contract assumes. The caller steps the optimisers between
:meth:`FusionTraining.d_loss` and :meth:`FusionTraining.g_loss`
(``metagan_mm.models.FusionGAN.train_step``).
"""
from copy import deepcopy
from typing import Dict, Sequence, Tuple

import torch
from torch import Tensor, nn

from ..fusion import FusionLosses, FusionNoise, d_loss, g_loss
from ..fusion import local_reconstruction_loss as recon_loss

Logs = Dict[str, Tensor]


def task_noise(generator: nn.Module, task_indices: Sequence[int], k_shot: int,
               seed: int) -> Dict[str, FusionNoise]:
    """The fusion noise of the D and G updates of each task, drawn from
    ``(seed, task_index)`` alone, so any batching of the tasks and any
    number of ranks see the same numbers.

    Returns:
        ``{'d': FusionNoise, 'g': FusionNoise}``, one fusion per task each.
    """
    per_task = []
    for index in task_indices:
        gen = torch.Generator().manual_seed(
            (seed * 1_000_003 + int(index)) % (2**63))
        per_task.append([generator.sample_noise(1, k_shot, gen) for _ in 'dg'])
    device = next(generator.parameters()).device
    return {
        key:
        FusionNoise(*(torch.cat(parts).to(device)
                      for parts in zip(*(t[i] for t in per_task))))
        for i, key in enumerate('dg')
    }


class FusionTraining:
    """LoFGAN's losses on a meta-batch of tasks; every image of a task is a
    shot.

    * D update: one fusion per task (noise ``'d'``) makes ``T`` fakes; the
      loss is :func:`~metagan_mm.core.fusion.d_loss` on all ``T * N`` real
      images (labelled with their task's seen class) against them.
    * G update, after D stepped: one fusion per task (noise ``'g'``); the
      loss is :func:`~metagan_mm.core.fusion.g_loss` with the local
      reconstruction loss of those fusions.

    Args:
        losses: Loss weights (:class:`~metagan_mm.core.fusion.FusionLosses`
            fields).
    """

    def __init__(self, **losses: float) -> None:
        self.losses = FusionLosses(**losses)

    def d_loss(self, generator: nn.Module, discriminator: nn.Module,
               tasks: Tensor, labels: Tensor,
               noise: FusionNoise) -> Tuple[Tensor, Logs]:
        """D's loss (G is not differentiated).

        Args:
            tasks: ``[T, N, C, H, W]`` images in ``[-1, 1]``.
            labels: ``[T]`` seen class of each task (None without class
                terms).
            noise: ``T`` fusions of ``N`` shots.
        """
        with torch.no_grad():
            fake, _ = generator(tasks, noise)
        if labels is not None:  # one label per image
            labels = labels.repeat_interleave(tasks.shape[1])
        return d_loss(discriminator, tasks.flatten(0, 1), labels, fake,
                      self.losses)

    def g_loss(self, generator: nn.Module, discriminator: nn.Module,
               tasks: Tensor, labels: Tensor,
               noise: FusionNoise) -> Tuple[Tensor, Logs]:
        """G's loss (D's weights get gradients too; the caller steps G
        only)."""
        fake, matches = generator(tasks, noise)
        recon = recon_loss(tasks, fake, noise, matches, generator.map_size)
        return g_loss(discriminator, fake, labels, recon, self.losses)

    def finetune(self, generator: nn.Module, discriminator: nn.Module,
                 shots: Tensor, steps: int, lr: float,
                 gen: torch.Generator) -> nn.Module:
        """Fine-tune copies of G and D on the K shots of one (unseen) class.

        Each step is one D and one G update (Adam, ``lr``, LoFGAN's betas)
        on the task of the K shots, with the training losses except the
        class terms: an unseen class has no row in D's seen-class head, so
        its cross-entropy (and the R1 penalty on its logit) is left out;
        D keeps hinge, G hinge and local reconstruction.

        Args:
            shots: ``[K, C, H, W]`` in ``[-1, 1]``.
            steps: D and G updates.
            lr: Adam learning rate.
            gen: Draws the fusions.

        Returns:
            The fine-tuned copy of G (the given nets are unchanged).
        """
        g, d = deepcopy(generator), deepcopy(discriminator)
        opt_g = torch.optim.Adam(g.parameters(), lr)
        opt_d = torch.optim.Adam(d.parameters(), lr)
        unseen = FusionTraining(**self.losses._replace(cls=0.0)._asdict())
        task, k = shots[None], shots.shape[0]
        with torch.enable_grad():
            for _ in range(steps):
                for opt, loss_fn in ((opt_d, unseen.d_loss), (opt_g,
                                                              unseen.g_loss)):
                    noise = g.sample_noise(1, k, gen, shots.device)
                    loss, _ = loss_fn(g, d, task, None, noise)
                    opt_g.zero_grad()
                    opt_d.zero_grad()
                    loss.backward()
                    opt.step()
        return g.requires_grad_(False)
