"""InnerLoop: adapt a generator/discriminator pair on fast weights (torch only).

Nothing here touches the modules' own parameters or buffers: the modules are
only used as functions through :func:`torch.func.functional_call`.

Randomness (noise ``z`` and GP coefficients ``alpha``) is drawn up front by
:meth:`InnerLoop.sample_randomness`, so the vmap-batched and the sequential
paths consume identical numbers and agree to float rounding.
"""
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from . import gan_losses
from .batching import TaskMapper
from .config import InnerLoopConfig
from .optim import AdamState, adam_update, resolve_rates, sgd_update
from .params import (all_finite, clone_buffers, detach_dict, functional_call,
                     index_dict, meta_buffers, meta_params)
from .step_checkpoint import checkpointed_call

TensorDict = Dict[str, Tensor]
LossFn = Callable[..., Tensor]  # (params, *data) -> scalar loss


@dataclass
class AdaptResult:
    """Outcome of an inner loop.

    In batched form (from :meth:`InnerLoop.adapt_batched` /
    :meth:`InnerLoop.adapt_sequential`) every tensor has a leading task dim.

    Attributes:
        g_params: Adapted generator fast weights.
        d_params: Adapted discriminator fast weights.
        g_buffers: Generator buffers after adaptation (each task has its own
            copy; e.g. BatchNorm running stats), so callers can average them.
        d_buffers: Discriminator buffers after adaptation.
        d_losses: ``[steps * d_steps_per_g_step]`` D losses (detached),
            each taken before the corresponding update.
        g_losses: ``[steps]`` G losses (detached), before each update.
    """

    g_params: TensorDict
    d_params: TensorDict
    g_buffers: TensorDict
    d_buffers: TensorDict
    d_losses: Tensor
    g_losses: Tensor

    @staticmethod
    def cat(parts: Sequence['AdaptResult']) -> 'AdaptResult':
        """Join batched results of consecutive task chunks (buffers: the
        first chunk's, which are unbatched in the ``'stacked'`` backend)."""
        if len(parts) == 1:
            return parts[0]

        def cat_dict(field: str) -> TensorDict:
            return OrderedDict((k, torch.cat([getattr(p, field)[k]
                                              for p in parts]))
                               for k in getattr(parts[0], field))

        return AdaptResult(cat_dict('g_params'), cat_dict('d_params'),
                           parts[0].g_buffers, parts[0].d_buffers,
                           torch.cat([p.d_losses for p in parts]),
                           torch.cat([p.g_losses for p in parts]))

    def finite(self, batched: bool = True) -> Tensor:
        """Per-task (or scalar) flag: all losses and fast weights finite."""
        flags = [all_finite({'d': self.d_losses, 'g': self.g_losses}, batched),
                 all_finite(self.g_params, batched),
                 all_finite(self.d_params, batched)]
        return torch.stack(flags).all(0)


class InnerLoop:
    """Adapt G and D to one task with SGD or functional Adam on fast weights.

    Each inner step makes ``cfg.d_steps_per_g_step`` D updates (on all real
    images of the task vs. fakes of the current G) then one G update.

    Gradients are taken with plain autograd in the sequential path and with
    ``torch.func.grad`` under ``vmap`` in the batched path (the GP uses
    ``torch.autograd.grad``/``torch.func.vjp`` respectively, both
    differentiable again). With ``create_graph=True`` the adapted weights are
    differentiable w.r.t. the initial weights and learned rates through all
    inner steps (second order); with ``create_graph=False`` inner gradients
    are constants, so ``d theta_T / d theta_0 = I`` (first order) while
    learned rates still get gradients through ``lr * grad``.

    Modules with running statistics (BatchNorm): the sequential path gives
    every task its own copy of the buffers (the modules' buffers are never
    modified); the adapted copies are returned in :class:`AdaptResult` so an
    algorithm can average them. vmap cannot update buffers, so such modules
    make :meth:`adapt_batched` fall back to the sequential loop with a
    one-time warning.

    Args:
        generator: Maps noise ``[N, noise_size]`` to images.
        discriminator: Maps images to ``[N, 1]`` scores.
        cfg: Inner-loop hyper-parameters.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module,
                 cfg: Optional[InnerLoopConfig] = None) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.cfg = cfg if cfg is not None else InnerLoopConfig()
        self.cfg.validate()
        self.mapper = TaskMapper([generator, discriminator], self.cfg.vmap,
                                 self.cfg.vmap_chunk_size)

    # ------------------------------------------------------------------ utils
    def meta_params(self) -> Tuple[TensorDict, TensorDict]:
        """Return the (G, D) meta-parameter dicts (live tensors)."""
        return meta_params(self.generator), meta_params(self.discriminator)

    def sample_randomness(self, num_tasks: int, n_real: int,
                          noise_dim: Optional[int] = None,
                          generator: Optional[torch.Generator] = None,
                          device: Optional[torch.device] = None,
                          dtype: Optional[torch.dtype] = None) -> TensorDict:
        """Pre-draw all noise and GP coefficients for ``num_tasks`` tasks.

        Args:
            num_tasks: ``T``.
            n_real: Images per task ``N`` (fake batch size equals ``N``).
            noise_dim: Noise size; defaults to ``generator.noise_size``.
            generator: Optional ``torch.Generator`` (drawn on its device).
            device: Result device (default: the G parameters' device).
            dtype: Result dtype (default: the G parameters' dtype).

        Returns:
            ``{'z_d': [T, S, R, N, nz], 'alpha': [T, S, R, N],
            'z_g': [T, S, N, nz]}`` with ``S = steps`` and
            ``R = d_steps_per_g_step``.
        """
        nz = noise_dim or getattr(self.generator, 'noise_size', None)
        if nz is None:
            raise ValueError('noise_dim is required: the generator has no '
                             '`noise_size` attribute.')
        ref = next(self.generator.parameters())
        s, r = self.cfg.steps, self.cfg.d_steps_per_g_step
        kw = dict(generator=generator,
                  device=generator.device if generator is not None else 'cpu')
        out = {'z_d': torch.randn(num_tasks, s, r, n_real, nz, **kw),
               'alpha': torch.rand(num_tasks, s, r, n_real, **kw),
               'z_g': torch.randn(num_tasks, s, n_real, nz, **kw)}
        return {k: v.to(device or ref.device, dtype or ref.dtype)
                for k, v in out.items()}

    def generate(self, g: TensorDict, g_buffers: Optional[TensorDict],
                 z: Tensor) -> Tensor:
        """Run the generator with fast weights."""
        return functional_call(self.generator, g, g_buffers, z)

    def discriminate(self, d: TensorDict, d_buffers: Optional[TensorDict],
                     x: Tensor) -> Tensor:
        """Run the discriminator with fast weights."""
        return functional_call(self.discriminator, d, d_buffers, x)

    # -------------------------------------------------------------- gradients
    @staticmethod
    def _grad(loss_fn: LossFn, params: TensorDict, backend: str,
              create_graph: bool, data: tuple = ()) -> Tuple[TensorDict, Tensor]:
        """Return ``(d loss / d params, loss)`` with the chosen backend.

        ``loss_fn(params, *data)``; with the ``'stacked'`` backend every
        tensor has a leading task dim and the gradient is vmapped over it.
        """
        if backend in ('func', 'stacked'):
            inputs = params if create_graph else detach_dict(params)
            grad_fn = torch.func.grad_and_value(loss_fn)
            if backend == 'stacked':
                grad_fn = torch.func.vmap(grad_fn)
            grads, loss = grad_fn(inputs, *data)
            return grads, loss.detach()
        with torch.enable_grad():
            # Fresh graph nodes: the gradient counts only paths through these
            # handles (not e.g. through D's fast weights, which depend on G's
            # weights via earlier fakes), matching torch.func.grad.
            inputs = OrderedDict(
                (k, v.view_as(v) if create_graph and v.requires_grad else
                 v.detach().requires_grad_(True)) for k, v in params.items())
            loss = loss_fn(inputs, *data)
            grads = torch.autograd.grad(loss, list(inputs.values()),
                                        create_graph=create_graph,
                                        allow_unused=True)
        grads = OrderedDict((k, torch.zeros_like(v) if g is None else g)
                            for (k, v), g in zip(inputs.items(), grads))
        return grads, loss.detach()

    def _update(self, params: TensorDict, grads: TensorDict,
                rates: Mapping[str, object], state: AdamState
                ) -> Tuple[TensorDict, AdamState]:
        if self.cfg.optimizer == 'sgd':
            return sgd_update(params, grads, rates), state
        return adam_update(params, grads, rates, state, self.cfg.betas,
                           self.cfg.eps)

    # ------------------------------------------------------------ one task
    def d_step_loss(self, d_buffers: TensorDict, backend: str) -> LossFn:
        """Return ``(d_params, real, fake, alpha) -> D loss``."""
        cfg = self.cfg
        backend = 'func' if backend == 'stacked' else backend

        def loss_fn(d: TensorDict, real: Tensor, fake: Tensor,
                    alpha: Tensor) -> Tensor:
            return gan_losses.d_loss(
                cfg.loss, lambda x: self.discriminate(d, d_buffers, x), real,
                fake, alpha, cfg.gp_weight, backend)

        return loss_fn

    def g_step_loss(self, g_buffers: TensorDict,
                    d_buffers: TensorDict) -> LossFn:
        """Return ``(g_params, d_params, z) -> G loss``."""

        def loss_fn(g: TensorDict, d: TensorDict, z: Tensor) -> Tensor:
            fake = self.generate(g, g_buffers, z)
            return gan_losses.g_loss(self.cfg.loss,
                                     self.discriminate(d, d_buffers, fake))

        return loss_fn

    def _generate_in(self, backend: str, g: TensorDict, gb: TensorDict,
                     z: Tensor) -> Tensor:
        """Fakes of one task, or of all tasks for the ``'stacked'`` backend."""
        if backend == 'stacked':
            return torch.func.vmap(lambda p, z_: self.generate(p, gb, z_))(g, z)
        return self.generate(g, gb, z)

    def inner_step(self, backend: str, real: Tensor, g: TensorDict,
                   d: TensorDict, gb: TensorDict, db: TensorDict,
                   rand_s: TensorDict, g_rates: Mapping[str, object],
                   d_rates: Mapping[str, object], g_state: AdamState,
                   d_state: AdamState, create_graph: bool):
        """One inner step: ``d_steps_per_g_step`` D updates, then one G update.

        Args:
            rand_s: This step's randomness: ``z_d [R, N, nz]``,
                ``alpha [R, N]``, ``z_g [N, nz]`` (``'stacked'``: ``[R, T,
                ...]`` and ``[T, ...]``, as are ``real`` and the weights).

        Returns:
            ``(g, d, g_state, d_state, d_losses [R], g_loss)``.
        """
        d_losses = []
        d_loss_fn = self.d_step_loss(db, backend)
        for r in range(self.cfg.d_steps_per_g_step):
            g_in = g if create_graph else detach_dict(g)
            fake = self._generate_in(backend, g_in, gb, rand_s['z_d'][r])
            grads, loss = self._grad(d_loss_fn, d, backend, create_graph,
                                     (real, fake, rand_s['alpha'][r]))
            d, d_state = self._update(d, grads, d_rates, d_state)
            d_losses.append(loss)
        d_in = d if create_graph else detach_dict(d)
        grads, g_loss = self._grad(self.g_step_loss(gb, db), g, backend,
                                   create_graph, (d_in, rand_s['z_g']))
        g, g_state = self._update(g, grads, g_rates, g_state)
        return g, d, g_state, d_state, torch.stack(d_losses), g_loss

    def _checkpointed_step(self, backend: str, real: Tensor, g: TensorDict,
                           d: TensorDict, gb: TensorDict, db: TensorDict,
                           rand_s: TensorDict, g_rates: Mapping[str, object],
                           d_rates: Mapping[str, object], g_state: AdamState,
                           d_state: AdamState, create_graph: bool):
        """:meth:`inner_step` as one checkpointed node (second order)."""
        steps = [g_state.step, d_state.step]

        def fn(tree):
            g_, d_, gm, gv, dm, dv, g_r, d_r = tree
            out = self.inner_step(
                backend, real, g_, d_, gb, db, rand_s, g_r, d_r,
                AdamState(step=g_state.step, m=gm, v=gv),
                AdamState(step=d_state.step, m=dm, v=dv), create_graph)
            g2, d2, gs, ds, d_loss, g_loss = out
            steps[:] = [gs.step, ds.step]
            return (g2, d2, gs.m, gs.v, ds.m, ds.v, d_loss.detach(),
                    g_loss.detach())

        def num_diff(out) -> int:
            return sum(len(x) for x in out[:6])

        tree = (g, d, g_state.m, g_state.v, d_state.m, d_state.v,
                dict(g_rates), dict(d_rates))
        g2, d2, gm, gv, dm, dv, d_loss, g_loss = checkpointed_call(
            fn, tree, num_diff)
        return (g2, d2, AdamState(step=steps[0], m=gm, v=gv),
                AdamState(step=steps[1], m=dm, v=dv), d_loss, g_loss)

    def uses_checkpoint(self, create_graph: bool,
                        buffers: Optional[TensorDict] = None) -> bool:
        """Whether inner steps are gradient-checkpointed (see ``cfg``).

        Only second-order sequential adaptation is checkpointed (first order
        keeps no inner graph to save); modules with buffers (running
        statistics, updated in place by every forward) are not, since the
        backward pass re-runs each step, which would update them twice.
        """
        if not (self.cfg.grad_checkpoint and create_graph):
            return False
        if buffers is None:
            buffers = {**meta_buffers(self.generator),
                       **meta_buffers(self.discriminator)}
        if buffers:
            self.mapper.note(
                'metagan_mm: inner_loop.grad_checkpoint ignored: the networks '
                'have buffers (' + ', '.join(list(buffers)[:3]) + ') that '
                'recomputation would update twice.')
            return False
        return True

    def may_batch(self, batched: bool, create_graph: bool,
                  buffers: Optional[TensorDict] = None) -> bool:
        """``batched``, unless checkpointing forces the sequential loop."""
        if batched and self.uses_checkpoint(create_graph, buffers):
            self.mapper.note(
                'metagan_mm: inner_loop.grad_checkpoint=True runs the tasks '
                'sequentially (checkpointing does not compose with vmap).')
            return False
        return batched

    def run_task(self, backend: str, real: Tensor, g: TensorDict,
                 d: TensorDict, g_buffers: TensorDict, d_buffers: TensorDict,
                 rand: TensorDict, g_lrs: Optional[TensorDict],
                 d_lrs: Optional[TensorDict], create_graph: bool
                 ) -> AdaptResult:
        """Adapt on one task (unbatched tensors); buffers are copied first.

        Backends: ``'autograd'`` (plain autograd), ``'func'`` (torch.func,
        for use inside an outer ``vmap``) and ``'stacked'``: ``real``, the
        weights and ``rand`` have a leading task dim ``T``, each gradient
        is one ``vmap`` over the tasks and the optimiser steps run on the
        stacked weights (multi-tensor, in place where first order), so the
        update costs what the sequential loop's does.

        With ``cfg.grad_checkpoint`` (second order, ``'autograd'`` backend)
        every inner step is one checkpointed autograd node
        (:mod:`metagan_mm.core.step_checkpoint`): only the fast weights,
        Adam moments and learned rates between steps are kept for the outer
        backward pass; each step's activations and gradient graph are
        recomputed during it. Same values (bitwise), memory that grows with
        the steps by those tensors only, one more run of each step.
        """
        cfg = self.cfg
        gb, db = clone_buffers(g_buffers), clone_buffers(d_buffers)
        g_rates = resolve_rates(g, cfg.g_lr, g_lrs)
        d_rates = resolve_rates(d, cfg.d_lr, d_lrs)
        g_state, d_state = AdamState(), AdamState()
        ckpt = backend == 'autograd' and self.uses_checkpoint(
            create_graph, {**gb, **db})
        d_losses, g_losses = [], []
        for s in range(cfg.steps):
            if backend == 'stacked':  # [T, S, R, ...] -> [R, T, ...]
                rand_s = {'z_d': rand['z_d'][:, s].transpose(0, 1),
                          'alpha': rand['alpha'][:, s].transpose(0, 1),
                          'z_g': rand['z_g'][:, s]}
            else:
                rand_s = {'z_d': rand['z_d'][s], 'alpha': rand['alpha'][s],
                          'z_g': rand['z_g'][s]}
            args = (backend, real, g, d, gb, db, rand_s, g_rates, d_rates,
                    g_state, d_state, create_graph)
            if ckpt:
                g, d, g_state, d_state, d_loss, g_loss = \
                    self._checkpointed_step(*args)
            else:
                g, d, g_state, d_state, d_loss, g_loss = self.inner_step(*args)
            d_losses.append(d_loss)
            g_losses.append(g_loss)
        if backend == 'stacked':  # [S * R, T] -> [T, S * R]
            return AdaptResult(g, d, gb, db, torch.cat(d_losses).T,
                               torch.stack(g_losses).T)
        return AdaptResult(g, d, gb, db, torch.cat(d_losses),
                           torch.stack(g_losses))

    # ----------------------------------------------------------- public API
    def _defaults(self, g_params: Optional[TensorDict],
                  d_params: Optional[TensorDict],
                  g_buffers: Optional[TensorDict],
                  d_buffers: Optional[TensorDict],
                  create_graph: Optional[bool]):
        return (OrderedDict(g_params if g_params is not None else
                            meta_params(self.generator)),
                OrderedDict(d_params if d_params is not None else
                            meta_params(self.discriminator)),
                g_buffers if g_buffers is not None else
                meta_buffers(self.generator),
                d_buffers if d_buffers is not None else
                meta_buffers(self.discriminator),
                self.cfg.create_graph if create_graph is None else create_graph)

    def adapt(self, real: Tensor, g_params: Optional[TensorDict] = None,
              d_params: Optional[TensorDict] = None,
              rand: Optional[TensorDict] = None,
              g_lrs: Optional[TensorDict] = None,
              d_lrs: Optional[TensorDict] = None,
              create_graph: Optional[bool] = None,
              g_buffers: Optional[TensorDict] = None,
              d_buffers: Optional[TensorDict] = None) -> AdaptResult:
        """Adapt to a single task (sequential, eager autograd).

        Args:
            real: ``[N, C, H, W]`` task images.
            g_params: Initial G fast weights (default: the module's params).
            d_params: Initial D fast weights (default: the module's params).
            rand: One task's randomness, i.e. ``sample_randomness(1, N)``
                indexed at task 0 (leading dims ``[S, R, ...]``). Required.
            g_lrs: Optional learned G rates ``name -> tensor`` broadcastable
                to the parameter (per-parameter or per-tensor); missing names
                use ``cfg.g_lr``.
            d_lrs: Same for D.
            create_graph: Second order if True; default ``cfg.create_graph``.
            g_buffers: Initial G buffers (default: the module's; copied).
            d_buffers: Initial D buffers (default: the module's; copied).

        Returns:
            :class:`AdaptResult` without a task dim.
        """
        if rand is None:
            raise ValueError('rand is required: draw it with '
                             'InnerLoop.sample_randomness(...) and index a task.')
        g, d, gb, db, cg = self._defaults(g_params, d_params, g_buffers,
                                          d_buffers, create_graph)
        return self.run_task('autograd', real, g, d, gb, db, rand, g_lrs,
                             d_lrs, cg)

    def adapt_sequential(self, real: Tensor, *args, **kwargs) -> AdaptResult:
        """Like :meth:`adapt_batched` but always loops over tasks."""
        return self._adapt_tasks(real, *args, batched=False, **kwargs)

    def adapt_batched(self, real: Tensor, *args, **kwargs) -> AdaptResult:
        """Adapt ``T`` tasks in one ``torch.func.vmap`` computation.

        Same arguments as :meth:`adapt` except ``real`` is
        ``[T, N, C, H, W]`` and ``rand`` has a leading task dim (as returned
        by :meth:`sample_randomness`). Falls back to the sequential loop (with
        a one-time warning) when ``cfg.vmap`` is False (silently), a module has
        running statistics or spectral norm, or vmap raises.

        Returns:
            :class:`AdaptResult` whose tensors have a leading task dim.
        """
        return self._adapt_tasks(real, *args, batched=True, **kwargs)

    def _run_stacked(self, real: Tensor, g: TensorDict, d: TensorDict,
                     gb: TensorDict, db: TensorDict, rand: TensorDict,
                     g_lrs: Optional[TensorDict], d_lrs: Optional[TensorDict],
                     create_graph: bool) -> Optional[AdaptResult]:
        """All tasks with the ``'stacked'`` backend, one chunk of tasks per
        vmap (``cfg.vmap_chunk_size``); None (noted) if vmap refuses."""
        num = real.shape[0]

        def expand(tensors: TensorDict, n: int) -> TensorDict:
            return OrderedDict((k, v.unsqueeze(0).expand(n, *v.shape))
                               for k, v in tensors.items())

        def run(part: slice) -> AdaptResult:
            n = part.stop - part.start
            return self.run_task('stacked', real[part], expand(g, n),
                                 expand(d, n), gb, db, index_dict(rand, part),
                                 g_lrs, d_lrs, create_graph)

        parts = self.mapper.try_batched(
            lambda: [run(p) for p in self.mapper.chunks(num, real.device)])
        if parts is None:
            return None
        res = AdaptResult.cat(parts)
        # vmap cannot update buffers: every task keeps the input's copy.
        res.g_buffers = OrderedDict(
            (k, v.contiguous()) for k, v in expand(res.g_buffers, num).items())
        res.d_buffers = OrderedDict(
            (k, v.contiguous()) for k, v in expand(res.d_buffers, num).items())
        return res

    def _adapt_tasks(self, real: Tensor, g_params: Optional[TensorDict] = None,
                     d_params: Optional[TensorDict] = None,
                     rand: Optional[TensorDict] = None,
                     g_lrs: Optional[TensorDict] = None,
                     d_lrs: Optional[TensorDict] = None,
                     create_graph: Optional[bool] = None,
                     g_buffers: Optional[TensorDict] = None,
                     d_buffers: Optional[TensorDict] = None,
                     batched: bool = True) -> AdaptResult:
        if rand is None:
            raise ValueError('rand is required: draw it with '
                             'InnerLoop.sample_randomness(T, N).')
        g, d, gb, db, cg = self._defaults(g_params, d_params, g_buffers,
                                          d_buffers, create_graph)
        batched = self.may_batch(batched, cg, {**gb, **db})
        if batched:
            res = self._run_stacked(real, g, d, gb, db, rand, g_lrs, d_lrs, cg)
            if res is not None:
                return res

        def one(backend: str, real_t: Tensor, rand_t: TensorDict):
            res = self.run_task(backend, real_t, g, d, gb, db, rand_t, g_lrs,
                                d_lrs, cg)
            return (res.g_params, res.d_params, res.g_buffers, res.d_buffers,
                    res.d_losses, res.g_losses)

        out = self.mapper.map(one, real, rand, batched)
        out = list(out)
        out[2] = OrderedDict((k, v.contiguous()) for k, v in out[2].items())
        out[3] = OrderedDict((k, v.contiguous()) for k, v in out[3].items())
        return AdaptResult(*out)
