"""Plain GAN training (transfer baseline): no meta-learning (torch only).

Each task contributes the plain GAN gradients of the objective's D and G
losses on its images at the current weights; the driver averages them over
the tasks, which for losses that are means over the images (WGAN-GP,
non-saturating, hinge) equals the gradient of the losses on all ``T * N``
pooled images. Stepping the outer optimisers with them is ordinary GAN
training on every meta-training class together; fine-tuning the result on
a class's K images with the inner loop is the *transfer* baseline.
"""
from typing import Any, Dict, Optional

import torch

from ..inner_loop import InnerLoop
from ..objective import D, G
from ..params import detach_dict
from ..task import Task
from .base import (MetaAlgorithm, Targets, TaskLosses, TaskOutput,
                   register_algorithm)


@register_algorithm
class Pooled(MetaAlgorithm):
    """Plain GAN gradients on the images of every task.

    One D gradient and one G gradient per meta-iteration, both at the
    current weights (simultaneous update): the objective's D loss with the
    fakes constant for D, and its G loss w.r.t. G's weights only.
    ``d_steps_per_g_step`` and the inner learning rates are not used here
    (the outer optimisers take the step); they still apply when the
    pretrained model is fine-tuned. The randomness is pre-drawn per task, so
    any split of the meta-batch across ranks gives the same gradients as
    one process; a task with a non-finite loss is dropped like any other.
    """

    trains_encoder = False

    def randomness(self, inner: InnerLoop, num_images: int,
                   generator: Optional[torch.Generator]) -> Dict[str, Any]:
        """One D and one G update's randomness on all the task's images."""
        return inner.objective.sample(
            inner.modules,
            num=num_images,
            d_shape=(),
            g_shape=(),
            generator=generator)

    def targets(self, inner: InnerLoop) -> Targets:
        """The D loss trains D, the G loss G."""
        params = inner.meta_params()
        return Targets(d={D: params[D]}, g={G: params[G]})

    def task(self, inner: InnerLoop, task: Task,
             rand: Dict[str, Any]) -> TaskOutput:
        """The D and G losses on the task's images at the meta-weights."""
        params = inner.meta_params()
        buffers = {
            n: {
                k: v.clone()
                for k, v in m.named_buffers()
            }
            for n, m in inner.modules.items()
        }
        nets = inner.nets(params, buffers)
        data = dict(real=task.images, shots=task.images, label=task.label)
        d_loss = inner.objective.d_loss(
            nets.using(**{G: detach_dict(params[G])}), rand=rand['d'], **data)
        g_loss = inner.objective.g_loss(nets, rand=rand['g'], **data)
        return TaskOutput(TaskLosses(outer_d=d_loss, outer_g=g_loss))
