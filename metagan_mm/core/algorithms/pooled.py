"""Pooled GAN training (transfer baseline): no meta-learning (torch only).

All ``T * N`` images of a meta-batch are pooled into one batch and the plain
GAN gradients of the D and G losses at the current weights are returned in
place of meta-gradients. Stepping the outer optimisers with them is ordinary
GAN training on every meta-training class together; fine-tuning the result
on a class's K images with the inner loop is the *transfer* baseline.
"""
from collections import OrderedDict
from typing import Any, Dict, Optional, Tuple

import torch
from torch import Tensor

from .. import gan_losses
from ..inner_loop import InnerLoop
from ..params import meta_buffers
from .common import TensorDict, base_logs, check_tasks, zeros_like_dict


class Pooled:
    """Plain GAN gradients on the pooled images of all tasks.

    One D gradient and one G gradient per call, both at the current weights
    (simultaneous update): the D loss ``d_loss(D; real, G(z_d))`` (the fakes
    are constants for D) and the G loss ``g_loss(D(G(z_g)))`` (only G's
    weights are differentiated), with the loss named by
    ``inner_loop.cfg.loss`` and its ``gp_weight``. ``d_steps_per_g_step`` and
    the inner learning rates are not used here (the outer optimisers take
    the step); they still apply when the pretrained model is fine-tuned.

    The randomness is pre-drawn per task (:meth:`sample_randomness`) and
    flattened with the images, so any split of the meta-batch across ranks
    gives the same gradients as one process.
    """

    def sample_randomness(self, inner_loop: InnerLoop, num_tasks: int,
                          n_images: int, noise_dim: Optional[int] = None,
                          generator: Optional[torch.Generator] = None
                          ) -> Dict[str, Tensor]:
        """Pre-draw the noise and GP coefficients of ``num_tasks`` tasks.

        Returns:
            ``{'z_d': [T, N, nz], 'alpha': [T, N], 'z_g': [T, N, nz]}``.
        """
        nz = noise_dim or getattr(inner_loop.generator, 'noise_size', None)
        if nz is None:
            raise ValueError('noise_dim is required: the generator has no '
                             '`noise_size` attribute.')
        ref = next(inner_loop.generator.parameters())
        kw = dict(generator=generator,
                  device=generator.device if generator is not None else 'cpu')
        out = {'z_d': torch.randn(num_tasks, n_images, nz, **kw),
               'alpha': torch.rand(num_tasks, n_images, **kw),
               'z_g': torch.randn(num_tasks, n_images, nz, **kw)}
        return {k: v.to(ref.device, ref.dtype) for k, v in out.items()}

    @staticmethod
    def _flat(x: Tensor) -> Tensor:
        return x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])

    def meta_gradients(self, inner_loop: InnerLoop, tasks: Tensor,
                       rand: Dict[str, Tensor], batched: bool = True,
                       **unused: Any
                       ) -> Tuple[TensorDict, TensorDict, Dict[str, Any]]:
        """Gradients of the pooled GAN losses w.r.t. G's and D's weights.

        Args:
            inner_loop: Inner loop holding G, D and the config (loss name,
                ``gp_weight``).
            tasks: ``[T, N, C, H, W]`` images, pooled to ``[T*N, ...]``.
            rand: From :meth:`sample_randomness` (leading dims ``[T, N]``).
            batched: Unused (one batch anyway); logged as given.
            **unused: Ignored (e.g. ``g_lrs``/``d_lrs``).

        Returns:
            ``(g_grads, d_grads, logs)``, detached and keyed by parameter
            name. ``logs`` is shaped like Reptile's: ``num_tasks``,
            ``num_skipped`` (all ``T`` tasks when a loss is not finite, then
            the gradients are zero), ``valid_mask``, ``batched``,
            ``inner_d_loss``/``inner_g_loss`` (1-element tensors) and empty
            ``g_buffers``/``d_buffers``.
        """
        check_tasks(tasks)
        cfg = inner_loop.cfg
        g0, d0 = inner_loop.meta_params()
        gb = meta_buffers(inner_loop.generator, clone=True)
        db = meta_buffers(inner_loop.discriminator, clone=True)
        real = self._flat(tasks)
        z_d, z_g = self._flat(rand['z_d']), self._flat(rand['z_g'])
        alpha = self._flat(rand['alpha'])
        with torch.enable_grad():
            with torch.no_grad():
                fake = inner_loop.generate(g0, gb, z_d)
            d_loss = gan_losses.d_loss(
                cfg.loss, lambda x: inner_loop.discriminate(d0, db, x), real,
                fake, alpha, cfg.gp_weight, 'autograd')
            d_grads = torch.autograd.grad(d_loss, list(d0.values()),
                                          allow_unused=True)
            fake_out = inner_loop.discriminate(
                d0, db, inner_loop.generate(g0, gb, z_g))
            g_loss = gan_losses.g_loss(cfg.loss, fake_out)
            g_grads = torch.autograd.grad(g_loss, list(g0.values()),
                                          allow_unused=True)
        g_out = OrderedDict(
            (k, torch.zeros_like(v) if g is None else g.detach())
            for (k, v), g in zip(g0.items(), g_grads))
        d_out = OrderedDict(
            (k, torch.zeros_like(v) if g is None else g.detach())
            for (k, v), g in zip(d0.items(), d_grads))
        finite = bool(torch.isfinite(d_loss) and torch.isfinite(g_loss)) and \
            all(bool(torch.isfinite(g).all())
                for g in list(g_out.values()) + list(d_out.values()))
        valid = torch.full((tasks.shape[0], ), finite, dtype=torch.bool)
        logs = base_logs(tasks.shape[0], valid, batched)
        logs['inner_d_loss'] = d_loss.detach().reshape(1)
        logs['inner_g_loss'] = g_loss.detach().reshape(1)
        logs['g_buffers'], logs['d_buffers'] = OrderedDict(), OrderedDict()
        if not finite:
            return zeros_like_dict(g0), zeros_like_dict(d0), logs
        return g_out, d_out, logs
