"""InnerLoop: adapt a generator/discriminator pair (and a condition
encoder, when there is one) on fast weights (torch only).

Nothing here touches the modules' own parameters or buffers: the modules are
only used as functions through :func:`torch.func.functional_call`.

Everything here is written for ONE task. How its gradients are taken is the
task runner's business: eager autograd when tasks run one at a time
(:data:`~metagan_mm.core.batching.LOOP`), :func:`torch.func.grad_and_value`
when the task runs under the runner's ``vmap``
(:data:`~metagan_mm.core.batching.VMAP`); the runner hands the algorithm an
inner loop bound to its mode (:meth:`InnerLoop.bound`). What an update
minimises is the objective's business (:mod:`metagan_mm.core.objective`).
Randomness is drawn up front (:meth:`InnerLoop.randomness`), so both ways
consume identical numbers and agree to float rounding.
"""
import copy
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Dict, Mapping, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.utils._pytree import register_dataclass, tree_leaves, tree_map

from .amp import LossScaler, scaled, unscaled
from .batching import LOOP, VMAP, Compiled, Mode, TaskRunner
from .config import InnerLoopConfig
from .objective import D, E, G, GANLosses, GANObjective, Nets, Rand
from .optim import AdamState, adam_update, sgd_update
from .params import TensorDict, detach_dict, meta_buffers, meta_params
from .step_checkpoint import checkpointed_call
from .task import Task

#: Learned inner rates: module -> parameter name -> rate.
Rates = Mapping[str, Mapping[str, Tensor]]

__all__ = ['InnerLoop', 'TaskState', 'Adapted', 'Rates']


@dataclass
class TaskState:
    """Fast weights, buffers and inner-optimiser states, per meta-module."""

    params: Dict[str, TensorDict]
    buffers: Dict[str, TensorDict]
    opt: Dict[str, AdamState] = field(default_factory=dict)


@dataclass(frozen=True)
class Adapted:
    """Outcome of one task's inner loop.

    Attributes:
        params: Adapted fast weights per meta-module.
        buffers: Buffers after adaptation per meta-module (e.g. BatchNorm
            running statistics; each task adapts its own copy).
        d_losses: ``[steps * d_steps_per_g_step]`` D losses (detached),
            each taken before the corresponding update.
        g_losses: ``[steps]`` G losses (detached), before each update.
    """

    params: Dict[str, TensorDict]
    buffers: Dict[str, TensorDict]
    d_losses: Tensor
    g_losses: Tensor


register_dataclass(Adapted)


class InnerLoop:
    """Adapt G and D (and E) to one task with SGD or functional Adam on fast
    weights.

    Each inner step makes ``cfg.d_steps_per_g_step`` D updates, each
    minimising the objective's :meth:`~GANObjective.d_loss` w.r.t. D's fast
    weights, then one update of every other module (G, and the condition
    encoder E when there is one) minimising its
    :meth:`~GANObjective.g_loss`.

    With ``create_graph=True`` the adapted weights are differentiable w.r.t.
    the initial weights and learned rates through all inner steps (second
    order); with ``create_graph=False`` inner gradients are constants, so
    ``d theta_T / d theta_0 = I`` (first order) while learned rates still get
    gradients through ``lr * grad``. Modules with running statistics
    (BatchNorm) adapt a copy of their buffers per task.

    Args:
        generator: Maps noise ``[N, noise_size]`` (and, with an encoder, a
            condition) to images.
        discriminator: Maps images (and a condition, if it is a
            :class:`~metagan_mm.architectures.ConditionalNet` with a
            ``condition_size``) to ``[N, 1]`` scores.
        cfg: Inner-loop hyper-parameters.
        noise_size: Noise size (default ``generator.noise_size``; not
            needed with an ``objective`` that draws its own randomness).
        encoder: Optional condition encoder: task images ``[N, C, H, W]``
            to a pooled ``[E]`` or per-image ``[N, E]`` condition.
        objective: What the updates minimise (default: :class:`GANLosses`
            from ``cfg.loss``, ``gp_weight``, ``recon_weight`` and
            ``mode_seeking_weight``).

    Attributes:
        scaler: The float16 loss scale (``cfg.amp``; None without it),
            shared by the copies :meth:`replace` and :meth:`bound` make and
            updated by the driver once per meta-iteration.
    """

    def __init__(self,
                 generator: nn.Module,
                 discriminator: nn.Module,
                 cfg: Optional[InnerLoopConfig] = None,
                 noise_size: Optional[int] = None,
                 encoder: Optional[nn.Module] = None,
                 objective: Optional[GANObjective] = None) -> None:
        self.modules = OrderedDict([(G, generator), (D, discriminator)])
        if encoder is not None:
            self.modules[E] = encoder
        self.cfg = cfg if cfg is not None else InnerLoopConfig()
        if encoder is None and (self.cfg.recon_weight
                                or self.cfg.mode_seeking_weight):
            raise ValueError(
                'inner_loop.recon_weight and mode_seeking_weight need a '
                'condition encoder (model.encoder); set them to 0 for an '
                'unconditional GAN.')
        self.noise_size = noise_size or getattr(generator, 'noise_size', None)
        if self.noise_size is None and objective is None:
            raise ValueError('noise_size is required: the generator has no '
                             '`noise_size` attribute.')
        self._objective = objective
        self.objective = objective if objective is not None else GANLosses(
            self.noise_size, self.cfg.loss, self.cfg.gp_weight,
            self.cfg.recon_weight, self.cfg.mode_seeking_weight)
        self.runner = TaskRunner(
            list(self.modules.values()), self.cfg.batching)
        self.mode: Mode = LOOP
        self.first_order = False
        amp = self.cfg.amp
        self.scaler = None if amp is None else LossScaler(
            amp.init_scale, amp.growth_interval)
        self._compiled = {
            m.batched: Compiled(m, self.runner.note)
            for m in (LOOP, VMAP)
        } if self.cfg.compile else {}

    @property
    def generator(self) -> nn.Module:
        """The generator (used as a function)."""
        return self.modules[G]

    @property
    def discriminator(self) -> nn.Module:
        """The discriminator (used as a function)."""
        return self.modules[D]

    @property
    def encoder(self) -> Optional[nn.Module]:
        """The condition encoder (None for an unconditional GAN)."""
        return self.modules.get(E)

    def replace(self, **changes: Any) -> 'InnerLoop':
        """A new inner loop over the same networks and objective with some
        settings changed (this one's config is left as it is)."""
        new = InnerLoop(self.generator, self.discriminator,
                        replace(self.cfg, **changes), self.noise_size,
                        self.encoder, self._objective)
        if new.cfg.amp == self.cfg.amp:
            new.scaler = self.scaler
        return new

    def bound(self, mode: Mode, *, first_order: bool = False) -> 'InnerLoop':
        """This inner loop taking its gradients the runner's way (``mode``),
        and, with ``first_order``, treating every inner gradient as a
        constant whatever the algorithm asks (the driver's out-of-memory
        fallback). Used by the driver only."""
        view = copy.copy(self)
        view.mode, view.first_order = mode, first_order
        return view

    def loss_scale(self, device: torch.device) -> Optional[float]:
        """The loss scale of inner (and outer) gradients on ``device``:
        the scaler's under float16 autocast, else None (not scaled)."""
        amp = self.cfg.amp
        if amp is None or amp.dtype_on(device.type) != torch.float16:
            return None
        return self.scaler.scale

    def meta_params(self) -> Dict[str, TensorDict]:
        """The meta-parameters per meta-module (live tensors)."""
        return {n: meta_params(m) for n, m in self.modules.items()}

    def randomness(self,
                   num: int,
                   generator: Optional[torch.Generator] = None) -> Rand:
        """Pre-draw the randomness of one task's inner loop on ``num``
        images: the objective's :meth:`~GANObjective.sample` with D updates
        shaped ``[steps, d_steps_per_g_step]`` and G updates ``[steps]``."""
        s, r = self.cfg.steps, self.cfg.d_steps_per_g_step
        return self.objective.sample(
            self.modules,
            num=num,
            d_shape=(s, r),
            g_shape=(s, ),
            generator=generator)

    def nets(self, params: Mapping[str, TensorDict],
             buffers: Mapping[str, TensorDict]) -> Nets:
        """The networks bound to fast weights (for an objective)."""
        return Nets(self.modules, params, buffers, self.mode.gp_backend,
                    self.cfg.amp)

    # ----------------------------------------------------------- one step
    def step(self, *, task: Task, state: TaskState, rand: Rand, rates: Rates,
             create_graph: bool,
             mode: Mode) -> Tuple[TaskState, Tensor, Tensor]:
        """One inner step: ``d_steps_per_g_step`` D updates, one G update.

        Args:
            task: The task (its images are both ``real`` and ``shots``).
            state: Fast weights, buffers and optimiser states.
            rand: This step's randomness (``'d'``: leading dim
                ``d_steps_per_g_step``).
            rates: Resolved inner learning rates per meta-module.
            create_graph: Second order.
            mode: How gradients are taken.

        Returns:
            ``(state, d_losses [R], g_loss)``.
        """
        params, opt, buffers = dict(state.params), dict(state.opt), \
            state.buffers
        gen = [n for n in params if n != D]  # updated by the G step
        objective, backend, modules = self.objective, mode.gp_backend, \
            self.modules
        amp, scale = self.cfg.amp, self.loss_scale(task.images.device)

        cache = nullcontext if amp is None else partial(
            amp.weight_cache, task.images)

        def d_loss(d: TensorDict, ge: Dict[str, TensorDict], x: Tensor,
                   label: Optional[Tensor], r: TensorDict) -> Tensor:
            nets = Nets(modules, {**ge, D: d}, buffers, backend, amp)
            with cache():  # D runs on real, fake and GP images
                return scaled(
                    objective.d_loss(
                        nets, real=x, shots=x, label=label, rand=r), scale)

        def g_loss(ge: Dict[str, TensorDict], d: TensorDict, x: Tensor,
                   label: Optional[Tensor], r: TensorDict) -> Tensor:
            nets = Nets(modules, {**ge, D: d}, buffers, backend, amp)
            with cache():
                return scaled(
                    objective.g_loss(
                        nets, real=x, shots=x, label=label, rand=r), scale)

        d_losses = []
        for r in range(self.cfg.d_steps_per_g_step):
            ge = {
                n: params[n] if create_graph else detach_dict(params[n])
                for n in gen
            }
            rand_r = {k: v[r] for k, v in rand['d'].items()}
            grads, loss = unscaled(
                mode.grad(d_loss, params[D],
                          (ge, task.images, task.label, rand_r), create_graph),
                scale)
            params[D], opt[D] = self._update(D, params[D], grads, rates, opt)
            d_losses.append(loss)
        d_in = params[D] if create_graph else detach_dict(params[D])
        grads, loss = unscaled(
            mode.grad(g_loss, {n: params[n]
                               for n in gen},
                      (d_in, task.images, task.label, rand['g']),
                      create_graph), scale)
        for n in gen:
            params[n], opt[n] = self._update(n, params[n], grads[n], rates,
                                             opt)
        return TaskState(params, buffers, opt), torch.stack(d_losses), loss

    def _update(self, name: str, params: TensorDict, grads: TensorDict,
                rates: Rates,
                opt: Dict[str, AdamState]) -> Tuple[TensorDict, AdamState]:
        if self.cfg.optimizer == 'sgd':
            return sgd_update(params, grads, rates[name]), opt[name]
        return adam_update(params, grads, rates[name], opt[name],
                           self.cfg.betas, self.cfg.eps)

    def _checkpointed_step(self, *, task: Task, state: TaskState, rand: Rand,
                           rates: Rates, create_graph: bool
                           ) -> Tuple[TaskState, Tensor, Tensor]:
        """:meth:`step` (eager) as one checkpointed autograd node."""
        steps = {n: o.step for n, o in state.opt.items()}

        def fn(tree):
            params, moments, rates_ = tree
            opt = {
                n: AdamState(step=steps[n], m=m, v=v)
                for n, (m, v) in moments.items()
            }
            new, d_loss, g_loss = self.step(
                task=task,
                state=TaskState(params, state.buffers, opt),
                rand=rand,
                rates=rates_,
                create_graph=create_graph,
                mode=LOOP)
            new_steps.update({n: o.step for n, o in new.opt.items()})
            return (new.params, {
                n: (o.m, o.v)
                for n, o in new.opt.items()
            }, d_loss.detach(), g_loss.detach())

        new_steps: Dict[str, int] = {}
        tree = (state.params, {
            n: (o.m, o.v)
            for n, o in state.opt.items()
        }, {
            n: dict(r)
            for n, r in rates.items()
        })
        params, moments, d_loss, g_loss = checkpointed_call(
            fn, tree, lambda out: len(tree_leaves(out[:2])))
        opt = {
            n: AdamState(step=new_steps[n], m=m, v=v)
            for n, (m, v) in moments.items()
        }
        return TaskState(params, state.buffers, opt), d_loss, g_loss

    def checkpointing(self, create_graph: bool) -> bool:
        """Whether inner steps are gradient-checkpointed.

        Only second-order adaptation with ``cfg.grad_checkpoint`` is (first
        order keeps no inner graph to save); modules with buffers (running
        statistics, updated in place by every forward) are not, since the
        backward pass re-runs each step, which would update them twice.
        """
        if not (self.cfg.grad_checkpoint and create_graph):
            return False
        buffers = self._buffers_named()
        if buffers:
            self.runner.note(
                'metagan_mm: inner_loop.grad_checkpoint ignored: the networks '
                f'have {buffers} that recomputation would update twice.')
            return False
        return True

    def _buffers_named(self) -> Optional[str]:
        """``'buffers (a, b, c)'``, the networks' first three buffers, or
        None when they have none."""
        names = [k for m in self.modules.values() for k in meta_buffers(m)]
        return f'buffers ({", ".join(names[:3])})' if names else None

    # ------------------------------------------------------------ a task
    def adapt(self,
              task: Task,
              rand: Rand,
              *,
              init: Optional[TaskState] = None,
              rates: Optional[Rates] = None,
              create_graph: bool = False) -> Adapted:
        """Adapt to one task.

        With ``cfg.grad_checkpoint`` (second order, tasks in a loop) every
        inner step is one checkpointed autograd node
        (:mod:`metagan_mm.core.step_checkpoint`): only the fast weights,
        Adam moments and learned rates between steps are kept for the outer
        backward pass; each step's activations and gradient graph are
        recomputed during it. Same values, memory that grows with the steps
        by those tensors only, one more run of each step.

        Args:
            task: The task's images (and label).
            rand: The task's randomness (:meth:`randomness`).
            init: Initial fast weights and buffers per meta-module (default:
                the modules' own; buffers are copied).
            rates: Learned rates ``module -> name -> tensor`` broadcastable
                to the parameter (per-parameter or per-tensor); missing
                names use ``cfg.g_lr`` / ``cfg.d_lr``.
            create_graph: Second order if True (unless the driver bound this
                loop ``first_order``).
        """
        create_graph = create_graph and not self.first_order
        mode = self._compiled_mode(create_graph) if self._compiled \
            else self.mode
        state = self._initial_state(init)
        rates = {
            n: {
                k: (rates or {}).get(n, {}).get(k, self.cfg.lr(n))
                for k in p
            }
            for n, p in state.params.items()
        }
        ckpt = not mode.batched and self.checkpointing(create_graph)
        d_losses, g_losses = [], []
        for s in range(self.cfg.steps):
            kw = dict(
                task=task,
                state=state,
                rand=tree_map(lambda v: v[s], rand),
                rates=rates,
                create_graph=create_graph)
            if ckpt:
                state, d_loss, g_loss = self._checkpointed_step(**kw)
            else:
                state, d_loss, g_loss = self.step(mode=mode, **kw)
            d_losses.append(d_loss)
            g_losses.append(g_loss)
        return Adapted(state.params, state.buffers, torch.cat(d_losses),
                       torch.stack(g_losses))

    def _compiled_mode(self, create_graph: bool) -> Mode:
        """The compiled variant of the mode (``cfg.compile``), or the mode
        with the reason it cannot be compiled logged once."""
        reason = None
        if create_graph:
            reason = ('second order: torch.compile does not differentiate '
                      'its graphs twice')
        elif (buffers := self._buffers_named()) is not None:
            reason = (f'the networks have {buffers}; compiled steps cover '
                      'buffer-free networks only')
        if reason is None:
            return self._compiled[self.mode.batched]
        self.runner.note(f'metagan_mm: inner_loop.compile ignored, inner '
                         f'steps run eagerly: {reason}.')
        return self.mode

    def _initial_state(self, init: Optional[TaskState]) -> TaskState:
        """The meta-weights (or ``init``), with this task's own copy of the
        buffers."""
        params = init.params if init is not None else self.meta_params()
        buffers = init.buffers if init is not None else {
            n: meta_buffers(m)
            for n, m in self.modules.items()
        }
        return TaskState({
            n: OrderedDict(p)
            for n, p in params.items()
        }, tree_map(torch.clone, buffers), {n: AdamState()
                                            for n in params})
