"""Pooled GAN training (transfer baseline): no meta-learning (torch only).

All ``T * N`` images of a meta-batch are pooled into one batch and the plain
GAN gradients of the D and G losses at the current weights are returned in
place of meta-gradients. Stepping the outer optimisers with them is ordinary
GAN training on every meta-training class together; fine-tuning the result
on a class's K images with the inner loop is the *transfer* baseline.
"""
from typing import Dict, Optional

import torch
from torch import Tensor
from torch.utils._pytree import tree_map

from .. import gan_losses
from ..inner_loop import D, G, InnerLoop, gan_noise
from ..params import finite, grads_or_zeros, meta_buffers
from .base import MetaAlgorithm, MetaResult, check_tasks


class Pooled(MetaAlgorithm):
    """Plain GAN gradients on the pooled images of all tasks.

    One D gradient and one G gradient per call, both at the current weights
    (simultaneous update): the D loss ``d_loss(D; real, G(z_d))`` (the fakes
    are constants for D) and the G loss ``g_loss(D(G(z_g)))`` (only G's
    weights are differentiated), with the loss named by
    ``inner_loop.cfg.loss`` and its ``gp_weight``. ``d_steps_per_g_step`` and
    the inner learning rates are not used here (the outer optimisers take
    the step); they still apply when the pretrained model is fine-tuned.

    The randomness is pre-drawn per task and flattened with the images, so
    any split of the meta-batch across ranks gives the same gradients as one
    process. When a loss or gradient is not finite every task counts as
    failed and the gradients are zero.
    """

    trains_encoder = False

    def sample_randomness(self,
                          inner: InnerLoop,
                          num_tasks: int,
                          n_images: int,
                          generator: Optional[torch.Generator] = None
                          ) -> Dict[str, Tensor]:
        """``{'z_d': [T, N, nz], 'alpha': [T, N], 'z_g': [T, N, nz]}``."""
        return gan_noise((num_tasks, n_images), (num_tasks, n_images),
                         inner.noise_size, generator,
                         next(inner.generator.parameters()))

    def meta_gradients(self, inner: InnerLoop, tasks: Tensor,
                       rand: Dict[str, Tensor]) -> MetaResult:
        """Gradients of the pooled GAN losses w.r.t. G's and D's weights;
        logs ``inner_d_loss`` / ``inner_g_loss`` (1-element tensors)."""
        check_tasks(tasks)
        cfg, params = inner.cfg, inner.meta_params()
        gb = meta_buffers(inner.generator, clone=True)
        db = meta_buffers(inner.discriminator, clone=True)
        real, z_d, alpha, z_g = (
            x.flatten(0, 1)
            for x in (tasks, rand['z_d'], rand['alpha'], rand['z_g']))
        with torch.enable_grad():
            with torch.no_grad():
                fake = inner.generate(params[G], gb, z_d)
            d_loss = gan_losses.d_loss(
                cfg.loss, lambda x: inner.discriminate(params[D], db, x), real,
                fake, alpha, cfg.gp_weight)
            d_grads = grads_or_zeros(d_loss, list(params[D].values()))
            g_loss = gan_losses.g_loss(
                cfg.loss,
                inner.discriminate(params[D], db,
                                   inner.generate(params[G], gb, z_g)))
            g_grads = grads_or_zeros(g_loss, list(params[G].values()))
        grads = {
            G: dict(zip(params[G], (g.detach() for g in g_grads))),
            D: dict(zip(params[D], (g.detach() for g in d_grads)))
        }
        logs = {
            'inner_d_loss': d_loss.detach().reshape(1),
            'inner_g_loss': g_loss.detach().reshape(1)
        }
        ok = bool(finite(tree_map(lambda v: v.unsqueeze(0), (logs, grads))))
        if not ok:
            grads = tree_map(torch.zeros_like, grads)
        return MetaResult(grads, torch.full((tasks.shape[0], ), ok), logs)
