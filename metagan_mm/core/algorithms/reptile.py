"""Reptile for GANs (FIGR): meta-gradient ``theta - mean_t(theta_t)``."""
from typing import Any, Dict, Optional

import torch

from ..inner_loop import InnerLoop
from ..params import TensorDict
from ..task import Task
from .base import (MetaAlgorithm, TaskLosses, TaskMeans, TaskOutput,
                   register_algorithm)


@register_algorithm
class Reptile(MetaAlgorithm):
    """Reptile meta-gradients for a generator/discriminator pair.

    For each task the inner loop adapts G and D (first order, no graph) from
    the meta weights ``theta`` on all the task's images; the meta-gradient
    is ``theta - mean_t(theta_t)`` over the valid tasks, so that an SGD step
    with lr ``eps`` gives the Reptile update
    ``theta + eps * (mean_t(theta_t) - theta)``. The adapted buffers (e.g.
    BatchNorm running statistics) are averaged too.

    Reptile cannot learn inner rates: its update is not the gradient of any
    objective w.r.t. them (it only compares end points). Use
    :class:`MetaSGD`.
    """

    def task(self, inner: InnerLoop, task: Task,
             rand: Dict[str, Any]) -> TaskOutput:
        """Adapt to all images of the task."""
        with torch.no_grad():
            res = inner.adapt(task, rand['inner'])
        return TaskOutput(
            TaskLosses(inner_d=res.d_losses, inner_g=res.g_losses), res.params,
            res.buffers)

    def reduce(self, inner: InnerLoop,
               means: Optional[TaskMeans]) -> Dict[str, TensorDict]:
        """``theta - mean_t(theta_t)`` (zero if no task is valid)."""
        return {
            n: {
                k:
                v.detach() -
                means.params[n][k] if means else torch.zeros_like(v).detach()
                for k, v in p.items()
            }
            for n, p in inner.meta_params().items()
        }
