"""Reptile for GANs (FIGR): meta-gradient ``theta - mean_t(theta_t)``."""
from collections import OrderedDict
from typing import Any, Dict, Optional, Tuple

import torch
from torch import Tensor

from ..inner_loop import InnerLoop
from .common import (TensorDict, base_logs, check_tasks, loss_means,
                     masked_task_mean, zeros_like_dict)


class Reptile:
    """Reptile meta-gradients for a generator/discriminator pair.

    For each task the inner loop adapts G and D (first order, no graph) from
    the meta weights ``theta``; the returned "gradient" is
    ``theta - mean_t(theta_t)`` over tasks whose inner losses and adapted
    weights are finite, so that an SGD step with lr ``eps`` gives the Reptile
    update ``theta + eps * (mean_t(theta_t) - theta)``.

    Learned rates: ``g_lrs``/``d_lrs`` may be passed and are used by the
    inner loop, but Reptile cannot *learn* them: its update is not the
    gradient of any objective w.r.t. the inner rates (it only compares end
    points), so no rate gradient exists. Use :class:`MetaSGD` (MAML-style
    outer loss) to learn rates.
    """

    def sample_randomness(self, inner_loop: InnerLoop, num_tasks: int,
                          n_images: int, noise_dim: Optional[int] = None,
                          generator: Optional[torch.Generator] = None
                          ) -> Dict[str, Tensor]:
        """Pre-draw the inner-loop randomness for ``num_tasks`` tasks."""
        return inner_loop.sample_randomness(num_tasks, n_images, noise_dim,
                                            generator)

    def meta_gradients(self, inner_loop: InnerLoop, tasks: Tensor,
                       rand: Dict[str, Tensor], batched: bool = True,
                       g_lrs: Optional[TensorDict] = None,
                       d_lrs: Optional[TensorDict] = None
                       ) -> Tuple[TensorDict, TensorDict, Dict[str, Any]]:
        """Compute Reptile meta-gradients.

        Args:
            inner_loop: Inner loop holding G, D and the config.
            tasks: ``[T, N, C, H, W]`` images, all used for adaptation.
            rand: From :meth:`sample_randomness` (leading dim ``T``).
            batched: Use the vmap path (falls back automatically).
            g_lrs: Optional fixed per-parameter/per-tensor G inner rates.
            d_lrs: Optional fixed D inner rates.

        Returns:
            ``(g_grads, d_grads, logs)``; grads are detached and keyed by
            parameter name. ``logs`` has ``num_tasks``, ``num_skipped``,
            ``valid_mask``, ``batched``, ``inner_d_loss`` ``[S*R]``,
            ``inner_g_loss`` ``[S]`` (means over valid tasks) and
            ``g_buffers``/``d_buffers`` (adapted buffers averaged over valid
            tasks, e.g. BatchNorm running stats; empty for LayerNorm nets).
        """
        check_tasks(tasks)
        g0, d0 = inner_loop.meta_params()
        adapt = inner_loop.adapt_batched if batched else inner_loop.adapt_sequential
        with torch.no_grad():
            res = adapt(tasks, rand=rand, g_lrs=g_lrs, d_lrs=d_lrs,
                        create_graph=False)
        valid = res.finite(batched=True)
        logs = base_logs(tasks.shape[0], valid, inner_loop.mapper.last_batched)
        logs['inner_d_loss'] = loss_means(res.d_losses, valid)
        logs['inner_g_loss'] = loss_means(res.g_losses, valid)
        if not bool(valid.any()):
            logs['g_buffers'], logs['d_buffers'] = OrderedDict(), OrderedDict()
            return zeros_like_dict(g0), zeros_like_dict(d0), logs
        logs['g_buffers'] = masked_task_mean(res.g_buffers, valid)
        logs['d_buffers'] = masked_task_mean(res.d_buffers, valid)
        g_mean = masked_task_mean(res.g_params, valid)
        d_mean = masked_task_mean(res.d_params, valid)
        g_grads = OrderedDict((k, v.detach() - g_mean[k]) for k, v in g0.items())
        d_grads = OrderedDict((k, v.detach() - d_mean[k]) for k, v in d0.items())
        return g_grads, d_grads, logs
