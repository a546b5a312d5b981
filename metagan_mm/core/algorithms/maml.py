"""MAML for GANs (first/second order) with the DAWSON option (torch only)."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import Tensor

from .. import gan_losses
from ..batching import VMAP_ERRORS
from ..inner_loop import InnerLoop
from ..params import index_dict, meta_buffers
from .common import (TensorDict, base_logs, check_tasks, grads_or_zeros,
                     loss_means, optional_dict, split_named)
from .double_backward import second_order_error

OUTER_KEYS = ('outer_d', 'outer_g', 'inner_d', 'inner_g')


class MAML:
    """MAML-GAN meta-gradients.

    Per task, G and D are adapted on the support set (first ``num_support``
    images) by the inner loop; the outer losses are evaluated on the query
    set (remaining images) with the adapted weights:

    * D outer loss: ``d_loss(D_t; query, G_t(z))`` -> gradient for D's meta
      weights (and D's rates, if learned);
    * G outer loss: ``g_loss(D'(G_t(z)))`` -> gradient for G's meta weights
      (and G's rates), where ``D' = D_t`` or, with
      ``separate_disc_adaptation=True`` (DAWSON), a discriminator adapted
      separately on the *query* set (its own inner loop from the meta
      weights, with its own pre-drawn randomness; that loop's G is dropped).

    ``first_order=True`` treats inner gradients as constants (FOMAML);
    otherwise gradients flow through all inner steps (needs double backward).

    Args:
        num_support: ``K``, support images per task (>= 1).
        first_order: Drop second-order terms.
        separate_disc_adaptation: DAWSON-style D for G's outer loss.
    """

    def __init__(self, num_support: int, first_order: bool = False,
                 separate_disc_adaptation: bool = False) -> None:
        if not isinstance(num_support, int) or num_support < 1:
            raise ValueError(f'num_support={num_support!r} must be an int >= 1.')
        self.num_support = num_support
        self.first_order = bool(first_order)
        self.separate_disc_adaptation = bool(separate_disc_adaptation)

    # ------------------------------------------------------------ randomness
    def sample_randomness(self, inner_loop: InnerLoop, num_tasks: int,
                          n_images: int, noise_dim: Optional[int] = None,
                          generator: Optional[torch.Generator] = None
                          ) -> Dict[str, Any]:
        """Pre-draw inner (support), outer and, for DAWSON, query-inner noise.

        Returns:
            ``{'inner': ..., 'outer': {'z_d', 'alpha', 'z_g'}[, 'query_inner']}``
            with a leading task dim ``T``; outer batches have ``Q`` samples.
        """
        q = self._num_query(n_images)
        inner = inner_loop.sample_randomness(num_tasks, self.num_support,
                                             noise_dim, generator)
        ref = inner['z_g']
        nz = ref.shape[-1]
        kw = dict(generator=generator,
                  device=generator.device if generator is not None else 'cpu')
        outer = {'z_d': torch.randn(num_tasks, q, nz, **kw),
                 'alpha': torch.rand(num_tasks, q, **kw),
                 'z_g': torch.randn(num_tasks, q, nz, **kw)}
        rand = {'inner': inner,
                'outer': {k: v.to(ref.device, ref.dtype) for k, v in outer.items()}}
        if self.separate_disc_adaptation:
            rand['query_inner'] = inner_loop.sample_randomness(
                num_tasks, q, noise_dim, generator)
        return rand

    def _num_query(self, n_images: int) -> int:
        q = n_images - self.num_support
        if q < 1:
            raise ValueError(f'tasks have {n_images} images but num_support='
                             f'{self.num_support}: at least one query image '
                             'is needed (N > num_support).')
        return q

    # ------------------------------------------------------------- one task
    def task_losses(self, inner_loop: InnerLoop, backend: str, real: Tensor,
                    rand: Dict[str, Any], g_lrs: Optional[TensorDict],
                    d_lrs: Optional[TensorDict]) -> Dict[str, Tensor]:
        """Adapt on the support set, return outer and inner losses of a task."""
        g0, d0 = inner_loop.meta_params()
        gb0 = meta_buffers(inner_loop.generator)
        db0 = meta_buffers(inner_loop.discriminator)
        cg = not self.first_order
        support, query = real[:self.num_support], real[self.num_support:]
        res = inner_loop.run_task(backend, support, g0, d0, gb0, db0,
                                  rand['inner'], g_lrs, d_lrs, cg)
        out = rand['outer']
        cfg = inner_loop.cfg
        fake_d = inner_loop.generate(res.g_params, res.g_buffers, out['z_d'])
        outer_d = gan_losses.d_loss(
            cfg.loss,
            lambda x: inner_loop.discriminate(res.d_params, res.d_buffers, x),
            query, fake_d, out['alpha'], cfg.gp_weight, backend)
        d_g, db_g = res.d_params, res.d_buffers
        inner_d = res.d_losses
        if self.separate_disc_adaptation:
            res_q = inner_loop.run_task(backend, query, g0, d0, gb0, db0,
                                        rand['query_inner'], g_lrs, d_lrs, cg)
            d_g, db_g = res_q.d_params, res_q.d_buffers
            inner_d = torch.cat([inner_d, res_q.d_losses])
        fake_g = inner_loop.generate(res.g_params, res.g_buffers, out['z_g'])
        outer_g = gan_losses.g_loss(cfg.loss,
                                    inner_loop.discriminate(d_g, db_g, fake_g))
        return {'outer_d': outer_d, 'outer_g': outer_g, 'inner_d': inner_d,
                'inner_g': res.g_losses}

    @staticmethod
    def _finite(out: Dict[str, Tensor]) -> Tensor:
        flags = [torch.isfinite(out[k].detach()).reshape(
            out[k].shape[0], -1).all(1) for k in OUTER_KEYS]
        return torch.stack(flags).all(0)

    # ------------------------------------------------------------ gradients
    def meta_gradients(self, inner_loop: InnerLoop, tasks: Tensor,
                       rand: Dict[str, Any], batched: bool = True,
                       g_lrs: Optional[TensorDict] = None,
                       d_lrs: Optional[TensorDict] = None
                       ) -> Tuple[TensorDict, TensorDict, Dict[str, Any]]:
        """Compute MAML meta-gradients (mean over non-skipped tasks).

        Args:
            inner_loop: Inner loop holding G, D and the config.
            tasks: ``[T, N, C, H, W]``; first ``num_support`` images of each
                task are the support set, the rest the query set.
            rand: From :meth:`sample_randomness`.
            batched: Use one vmap computation (falls back automatically).
            g_lrs: Optional G inner rates; if they require grad their
                gradients are returned in ``logs['g_lr_grads']``.
            d_lrs: Same for D (``logs['d_lr_grads']``).

        Returns:
            ``(g_grads, d_grads, logs)``: detached grads keyed by parameter
            name; ``logs`` has ``num_tasks``, ``num_skipped``, ``valid_mask``,
            ``batched``, ``outer_d_loss``, ``outer_g_loss``, ``inner_d_loss``
            and ``inner_g_loss`` (means over valid tasks).

        Raises:
            RuntimeError: in second order, when a module does not support
                double backward (names it and suggests ``first_order=True``).
        """
        check_tasks(tasks, self.num_support + 1)
        try:
            return self._meta_gradients(inner_loop, tasks, rand, batched,
                                        optional_dict(g_lrs),
                                        optional_dict(d_lrs))
        except RuntimeError as err:
            if self.first_order:
                raise
            raise second_order_error(inner_loop, tasks, err) from err

    def _meta_gradients(self, inner_loop, tasks, rand, batched, g_lrs, d_lrs):
        g0, d0 = inner_loop.meta_params()
        g_rates = OrderedDict((k, v) for k, v in g_lrs.items() if v.requires_grad)
        d_rates = OrderedDict((k, v) for k, v in d_lrs.items() if v.requires_grad)
        groups = (g0, g_rates, d0, d_rates)
        if inner_loop.may_batch(batched, not self.first_order):
            out = self._batched(inner_loop, tasks, rand, g_lrs, d_lrs, groups)
            if out is not None:
                return out
        return self._sequential(inner_loop, tasks, rand, g_lrs, d_lrs, groups)

    def _fn(self, inner_loop, g_lrs, d_lrs):
        return lambda backend, r, z: self.task_losses(inner_loop, backend, r, z,
                                                       g_lrs, d_lrs)

    def _batched(self, inner_loop, tasks, rand, g_lrs, d_lrs, groups):
        fn = self._fn(inner_loop, g_lrs, d_lrs)
        mapper = inner_loop.mapper
        out = mapper.try_vmap(fn, tasks, rand)
        if out is None:
            return None  # refused: run per task with per-task backward
        valid = self._finite(out)
        if not bool(valid.all()) and bool(valid.any()):
            idx = valid.nonzero().flatten()  # recompute without NaN tasks
            out = mapper.try_vmap(fn, tasks[idx], index_dict(rand, idx))
            if out is None:
                return None
        n = int(valid.sum())
        try:
            grads = self._zero_grads(groups) if n == 0 else self._backward(
                out['outer_d'].sum() / n, out['outer_g'].sum() / n, groups)
        except VMAP_ERRORS as err:
            mapper.note_failure('backward through torch.func.vmap', err)
            return None
        mapper.last_batched = True
        return self._pack(grads, groups, out, valid, tasks.shape[0], True)

    def _sequential(self, inner_loop, tasks, rand, g_lrs, d_lrs, groups):
        fn = self._fn(inner_loop, g_lrs, d_lrs)
        totals: Optional[List[Tensor]] = None
        outs, flags = [], []
        for t in range(tasks.shape[0]):
            o = fn('autograd', tasks[t], index_dict(rand, t))
            o1 = {k: v.unsqueeze(0) for k, v in o.items()}
            ok = bool(self._finite(o1).all())
            flags.append(ok)
            if not ok:
                continue
            outs.append({k: v.detach() for k, v in o1.items()})
            g = self._backward(o['outer_d'], o['outer_g'], groups)
            totals = g if totals is None else [a + b for a, b in zip(totals, g)]
        valid = torch.tensor(flags, device=tasks.device)
        n = int(valid.sum())
        grads = (self._zero_grads(groups) if n == 0 else
                 [t / n for t in totals])
        out = ({k: torch.cat([o[k] for o in outs]) for k in OUTER_KEYS}
               if outs else None)
        return self._pack(grads, groups, out, valid, tasks.shape[0], False)

    @staticmethod
    def _zero_grads(groups) -> List[Tensor]:
        return [torch.zeros_like(v).detach() for grp in groups
                for v in grp.values()]

    @staticmethod
    def _backward(loss_d: Tensor, loss_g: Tensor, groups) -> List[Tensor]:
        g0, g_rates, d0, d_rates = groups
        d_in = list(d0.values()) + list(d_rates.values())
        g_in = list(g0.values()) + list(g_rates.values())
        d_grads = grads_or_zeros(loss_d, d_in, retain_graph=True)
        g_grads = grads_or_zeros(loss_g, g_in)
        n_g, n_d = len(g0), len(d0)
        return (g_grads[:n_g] + g_grads[n_g:] + d_grads[:n_d] + d_grads[n_d:])

    @staticmethod
    def _pack(grads, groups, out, valid, num_tasks, batched):
        names = [k for grp in groups for k in grp]
        g_grads, g_lr, d_grads, d_lr = split_named(
            names, [g.detach() for g in grads], [len(g) for g in groups])
        logs = base_logs(num_tasks, valid, batched)
        if out is None or not bool(valid.any()):
            nan = torch.tensor(float('nan'))
            logs.update(outer_d_loss=nan, outer_g_loss=nan, inner_d_loss=nan,
                        inner_g_loss=nan)
        else:
            ok = torch.ones(out['outer_d'].shape[0], dtype=torch.bool,
                            device=out['outer_d'].device)
            if out['outer_d'].shape[0] == num_tasks:
                ok = valid.to(ok.device)
            logs.update(outer_d_loss=loss_means(out['outer_d'][:, None], ok)[0],
                        outer_g_loss=loss_means(out['outer_g'][:, None], ok)[0],
                        inner_d_loss=loss_means(out['inner_d'], ok),
                        inner_g_loss=loss_means(out['inner_g'], ok))
        if groups[1] or groups[3]:
            logs['g_lr_grads'], logs['d_lr_grads'] = g_lr, d_lr
        return g_grads, d_grads, logs

