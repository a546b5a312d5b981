"""InnerLoop: adapt a generator/discriminator pair (and a condition
encoder, when there is one) on fast weights (torch only).

Nothing here touches the modules' own parameters or buffers: the modules are
only used as functions through :func:`torch.func.functional_call`.

One inner step (:meth:`InnerLoop.step`) is written once, for one task
(:data:`~metagan_mm.core.batching.LOOP`) or a chunk of tasks whose tensors
carry a leading task dim (:data:`~metagan_mm.core.batching.VMAP`); the
:class:`~metagan_mm.core.batching.TaskRunner` chooses. Randomness (noise
``z`` and GP coefficients ``alpha``) is drawn up front (:func:`gan_noise`),
so both ways consume identical numbers and agree to float rounding.
"""
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Mapping, NamedTuple, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_leaves, tree_map

from . import gan_losses
from .batching import LOOP, VMAP, Compiled, Mode, TaskRunner
from .config import InnerLoopConfig
from .faml_losses import l1_reconstruction_loss, mode_seeking_loss
from .optim import AdamState, adam_update, sgd_update
from .params import (TensorDict, detach_dict, functional_call, meta_buffers,
                     meta_params)
from .step_checkpoint import checkpointed_call

G, D, E = 'generator', 'discriminator', 'encoder'
Rates = Mapping[str, Mapping[str, Tensor]]  # module -> param name -> rate


def gan_noise(d_shape: Tuple[int, ...],
              g_shape: Tuple[int, ...],
              noise_size: int,
              generator: Optional[torch.Generator],
              like: Tensor,
              second_g: bool = False) -> TensorDict:
    """Draw the noise and GP coefficients of D and G updates.

    Args:
        d_shape: Leading dims of the D updates' samples.
        g_shape: Leading dims of the G updates' samples.
        noise_size: Noise size ``nz``.
        generator: Optional ``torch.Generator`` (drawn on its device).
        like: The result's device and dtype.
        second_g: Also draw ``'z_g2'``, a second noise batch of the G
            updates (the mode-seeking term).

    Returns:
        ``{'z_d': [*d_shape, nz], 'alpha': d_shape, 'z_g': [*g_shape, nz]}``
        (and ``'z_g2'`` like ``'z_g'``).
    """
    kw = dict(
        generator=generator,
        device=generator.device if generator is not None else 'cpu')
    out = {
        'z_d': torch.randn(*d_shape, noise_size, **kw),
        'alpha': torch.rand(*d_shape, **kw),
        'z_g': torch.randn(*g_shape, noise_size, **kw)
    }
    if second_g:
        out['z_g2'] = torch.randn(*g_shape, noise_size, **kw)
    return {k: v.to(like.device, like.dtype) for k, v in out.items()}


def condition_for(condition: Optional[Tensor], num: int) -> Optional[Tensor]:
    """The condition of ``num`` generated or scored images of one task.

    A pooled condition ``[E]`` (or ``[num, E]``) is returned as it is;
    per-image conditions ``[K, E]`` are cycled, image ``i`` getting
    condition ``i mod K``.
    """
    if condition is None or condition.dim() == 1 or condition.shape[0] in (
            1, num):
        return condition
    index = torch.arange(num, device=condition.device) % condition.shape[0]
    return condition[index]


@dataclass
class TaskState:
    """Fast weights, buffers and inner-optimiser states, per meta-module."""

    params: Dict[str, TensorDict]
    buffers: Dict[str, TensorDict]
    opt: Dict[str, AdamState] = field(default_factory=dict)


class Adapted(NamedTuple):
    """Outcome of an inner loop (a pytree).

    With :data:`~metagan_mm.core.batching.VMAP` (and from
    :meth:`InnerLoop.adapt_tasks`) every tensor has a leading task dim.

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


class InnerLoop:
    """Adapt G and D (and E) to a task with SGD or functional Adam on fast
    weights.

    Each inner step makes ``cfg.d_steps_per_g_step`` D updates (on all real
    images of the task vs. fakes of the current G) then one G update.

    With a condition encoder ``E`` (a third meta-module), every step first
    embeds the task's images with the current fast ``E``: ``c = E(x)``; G
    generates ``G(z, c)`` and a conditioned D scores ``D(x, c)``. The D
    updates train D only; the G update trains G and E together, through
    ``G(z, E(x))`` (D sees ``c`` as a constant there), with the optional
    L1 reconstruction and mode-seeking terms (``cfg.recon_weight``,
    ``cfg.mode_seeking_weight``).

    With ``create_graph=True`` the adapted weights are differentiable w.r.t.
    the initial weights and learned rates through all inner steps (second
    order); with ``create_graph=False`` inner gradients are constants, so
    ``d theta_T / d theta_0 = I`` (first order) while learned rates still get
    gradients through ``lr * grad``. Modules with running statistics
    (BatchNorm) adapt a copy of their buffers per task (in the loop; vmap
    cannot update buffers, so the runner loops for them).

    Args:
        generator: Maps noise ``[N, noise_size]`` (and, with an encoder, a
            condition ``[E]`` or ``[N, E]``) to images.
        discriminator: Maps images (and a condition, if it has an int
            ``condition_size``) to ``[N, 1]`` scores.
        cfg: Inner-loop hyper-parameters.
        noise_size: Noise size (default ``generator.noise_size``).
        encoder: Optional condition encoder: task images ``[N, C, H, W]``
            to a pooled ``[E]`` or per-image ``[N, E]`` condition.
    """

    def __init__(self,
                 generator: nn.Module,
                 discriminator: nn.Module,
                 cfg: Optional[InnerLoopConfig] = None,
                 noise_size: Optional[int] = None,
                 encoder: Optional[nn.Module] = None) -> None:
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
        if self.noise_size is None:
            raise ValueError('noise_size is required: the generator has no '
                             '`noise_size` attribute.')
        self.runner = TaskRunner(
            list(self.modules.values()), self.cfg.batching)
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
        """A new inner loop over the same networks with some settings
        changed (this one's config is left as it is)."""
        return InnerLoop(self.generator, self.discriminator,
                         replace(self.cfg, **changes), self.noise_size,
                         self.encoder)

    def meta_params(self) -> Dict[str, TensorDict]:
        """The meta-parameters per meta-module (live tensors)."""
        return {n: meta_params(m) for n, m in self.modules.items()}

    def sample_randomness(self,
                          num_tasks: int,
                          n_real: int,
                          generator: Optional[torch.Generator] = None
                          ) -> TensorDict:
        """Pre-draw all noise and GP coefficients for ``num_tasks`` tasks.

        Returns:
            dict: ``{'z_d': [T, S, R, N, nz], 'alpha': [T, S, R, N],
            'z_g': [T, S, N, nz]}`` with ``S = steps``,
            ``R = d_steps_per_g_step`` and ``N = n_real``, on the device and
            in the dtype of G's parameters.
        """
        s, r = self.cfg.steps, self.cfg.d_steps_per_g_step
        return gan_noise((num_tasks, s, r, n_real), (num_tasks, s, n_real),
                         self.noise_size, generator,
                         next(self.generator.parameters()),
                         self.cfg.mode_seeking_weight > 0)

    def generate(self,
                 g: TensorDict,
                 g_buffers: Optional[TensorDict],
                 z: Tensor,
                 condition: Optional[Tensor] = None) -> Tensor:
        """Run the generator with fast weights (conditioned if given)."""
        if condition is None:
            return functional_call(self.generator, g, g_buffers, z)
        return functional_call(self.generator, g, g_buffers,
                               (z, condition_for(condition, z.shape[0])))

    def discriminate(self,
                     d: TensorDict,
                     d_buffers: Optional[TensorDict],
                     x: Tensor,
                     condition: Optional[Tensor] = None) -> Tensor:
        """Run the discriminator with fast weights; a conditioned one
        (int ``condition_size``) gets ``condition``."""
        if condition is None or getattr(self.discriminator, 'condition_size',
                                        None) is None:
            return functional_call(self.discriminator, d, d_buffers, x)
        return functional_call(self.discriminator, d, d_buffers,
                               (x, condition_for(condition, x.shape[0])))

    def encode(self, e: TensorDict, e_buffers: Optional[TensorDict],
               images: Tensor) -> Tensor:
        """Embed one task's images with the encoder's fast weights."""
        return functional_call(self.encoder, e, e_buffers, images)

    # ----------------------------------------------------------- objectives
    def d_objective(self, mode: Mode, d: TensorDict,
                    buffers: Dict[str, TensorDict], real: Tensor, fake: Tensor,
                    alpha: Tensor, condition: Optional[Tensor]) -> Tensor:
        """D's loss on one task: ``real`` vs ``fake`` under ``condition``."""
        cfg = self.cfg
        return gan_losses.d_loss(
            cfg.loss, lambda x: self.discriminate(d, buffers[D], x, condition),
            real, fake, alpha, cfg.gp_weight, mode.gp_backend)

    def g_objective(self, ge: Dict[str, TensorDict], buffers: Dict[str,
                                                                   TensorDict],
                    d: TensorDict, shots: Tensor, target: Tensor,
                    noise: Dict[str, Tensor]) -> Tensor:
        """G's (and E's) loss on one task.

        Args:
            ge: Fast weights of G (and E) by meta-module.
            buffers: Buffers by meta-module.
            d: D's fast weights.
            shots: Images E embeds (the task's, or MAML's support set).
            target: Real images, one per generation (RaGAN's reals and the
                L1 term's targets).
            noise: ``z_g`` (and ``z_g2`` for the mode-seeking term).
        """
        cfg, z = self.cfg, noise['z_g']
        fake, c = self.fake(ge, buffers, shots, z)
        const = None if c is None else c.detach()
        real_out = None
        if cfg.loss == 'ragan':
            real_out = self.discriminate(d, buffers[D], target, const)
        loss = gan_losses.g_loss(cfg.loss,
                                 self.discriminate(d, buffers[D], fake, const),
                                 real_out)
        if cfg.recon_weight:
            loss = loss + cfg.recon_weight * l1_reconstruction_loss(
                fake, target)
        if cfg.mode_seeking_weight:
            other = self.generate(ge[G], buffers[G], noise['z_g2'], c)
            loss = loss + cfg.mode_seeking_weight * mode_seeking_loss(
                fake, other, z, noise['z_g2'])
        return loss

    def fake(self, ge: Dict[str, TensorDict], buffers: Dict[str, TensorDict],
             shots: Tensor, z: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """One task's generations from noise ``z`` and their condition
        (``E(shots)``; None without an encoder)."""
        c = self.encode(ge[E], buffers[E], shots) if E in ge else None
        return self.generate(ge[G], buffers[G], z, c), c

    # ----------------------------------------------------------- one step
    def step(self, mode: Mode, real: Tensor, state: TaskState,
             rand: TensorDict, s: int, rates: Rates,
             create_graph: bool) -> Tuple[TaskState, Tensor, Tensor]:
        """Inner step ``s``: ``d_steps_per_g_step`` D updates, one G update.

        Args:
            mode: ``LOOP`` (one task) or ``VMAP`` (a leading task dim on
                ``real``, ``rand`` and the fast weights).
            real: ``[N, C, H, W]`` task images.
            state: Fast weights, buffers and optimiser states.
            rand: The task's randomness (see :meth:`sample_randomness`).
            s: Step index.
            rates: Resolved inner learning rates per meta-module.
            create_graph: Second order.

        Returns:
            ``(state, d_losses [R], g_loss)``.
        """
        cfg, params, opt = self.cfg, dict(state.params), dict(state.opt)
        buffers = state.buffers
        gen = [n for n in (G, E) if n in params]  # updated by the G step

        def d_loss(d: TensorDict, real: Tensor, fake: Tensor, alpha: Tensor,
                   *c: Tensor) -> Tensor:
            return self.d_objective(mode, d, buffers, real, fake, alpha,
                                    c[0] if c else None)

        def fake_and_condition(ge: Dict[str, TensorDict], x: Tensor,
                               z: Tensor) -> Tuple[Tensor, ...]:
            fake, c = self.fake(ge, buffers, x, z)
            return (fake, ) if c is None else (fake, c)

        def g_loss(ge: Dict[str, TensorDict], d: TensorDict, real: Tensor,
                   noise: Dict[str, Tensor]) -> Tensor:
            return self.g_objective(ge, buffers, d, real, real, noise)

        d_losses = []
        for r in range(cfg.d_steps_per_g_step):
            ge = {
                n: params[n] if create_graph else detach_dict(params[n])
                for n in gen
            }
            fake, *c = mode.map(fake_and_condition, ge, real,
                                mode.at(rand['z_d'], s, r))
            grads, loss = mode.grad(d_loss, params[D],
                                    (real, fake, mode.at(rand['alpha'], s,
                                                         r), *c), create_graph)
            params[D], opt[D] = self._update(D, params[D], grads, rates, opt)
            d_losses.append(loss)
        d_in = params[D] if create_graph else detach_dict(params[D])
        noise = {k: mode.at(rand[k], s) for k in ('z_g', 'z_g2') if k in rand}
        grads, loss = mode.grad(g_loss, {n: params[n]
                                         for n in gen}, (d_in, real, noise),
                                create_graph)
        for n in gen:
            params[n], opt[n] = self._update(n, params[n], grads[n], rates,
                                             opt)
        return (TaskState(params, state.buffers,
                          opt), torch.stack(d_losses, -1), loss)

    def _update(self, name: str, params: TensorDict, grads: TensorDict,
                rates: Rates,
                opt: Dict[str, AdamState]) -> Tuple[TensorDict, AdamState]:
        if self.cfg.optimizer == 'sgd':
            return sgd_update(params, grads, rates[name]), opt[name]
        return adam_update(params, grads, rates[name], opt[name],
                           self.cfg.betas, self.cfg.eps)

    def _checkpointed_step(self, real: Tensor, state: TaskState,
                           rand: TensorDict, s: int, rates: Rates,
                           create_graph: bool
                           ) -> Tuple[TaskState, Tensor, Tensor]:
        """:meth:`step` (one task) as one checkpointed autograd node."""
        steps = {n: o.step for n, o in state.opt.items()}

        def fn(tree):
            params, moments, rates_ = tree
            opt = {
                n: AdamState(step=steps[n], m=m, v=v)
                for n, (m, v) in moments.items()
            }
            new, d_loss, g_loss = self.step(
                LOOP, real, TaskState(params, state.buffers, opt), rand, s,
                rates_, create_graph)
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
              real: Tensor,
              rand: TensorDict,
              *,
              init: Optional[TaskState] = None,
              rates: Optional[Rates] = None,
              create_graph: bool = False,
              mode: Mode = LOOP) -> Adapted:
        """Adapt to one task (``LOOP``) or to a chunk of tasks (``VMAP``).

        With ``cfg.grad_checkpoint`` (second order, ``LOOP``) every inner
        step is one checkpointed autograd node
        (:mod:`metagan_mm.core.step_checkpoint`): only the fast weights,
        Adam moments and learned rates between steps are kept for the outer
        backward pass; each step's activations and gradient graph are
        recomputed during it. Same values, memory that grows with the steps
        by those tensors only, one more run of each step.

        Args:
            real: ``[N, C, H, W]`` task images (``VMAP``: ``[T, N, ...]``).
            rand: The task's randomness: :meth:`sample_randomness` indexed
                at the task (``VMAP``: at the chunk of tasks).
            init: Initial fast weights and buffers per meta-module (default:
                the modules' own; buffers are copied).
            rates: Learned rates ``module -> name -> tensor`` broadcastable
                to the parameter (per-parameter or per-tensor); missing
                names use ``cfg.g_lr`` / ``cfg.d_lr``.
            create_graph: Second order if True.
            mode: ``LOOP`` or ``VMAP`` (see
                :class:`~metagan_mm.core.batching.TaskRunner`).
        """
        if self._compiled:
            mode = self._compiled_mode(mode, create_graph)
        state = self._initial_state(init,
                                    real.shape[0] if mode.batched else None)
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
            if ckpt:
                state, d_loss, g_loss = self._checkpointed_step(
                    real, state, rand, s, rates, create_graph)
            else:
                state, d_loss, g_loss = self.step(mode, real, state, rand, s,
                                                  rates, create_graph)
            d_losses.append(d_loss)
            g_losses.append(g_loss)
        buffers = state.buffers
        if mode.batched:  # shared by the tasks (vmap cannot update them)
            n = real.shape[0]
            buffers = tree_map(lambda v: v.unsqueeze(0).expand(n, *v.shape),
                               buffers)
        return Adapted(state.params, buffers, torch.cat(d_losses, -1),
                       torch.stack(g_losses, -1))

    def _compiled_mode(self, mode: Mode, create_graph: bool) -> Mode:
        """The compiled variant of ``mode`` (``cfg.compile``), or ``mode``
        with the reason it cannot be compiled logged once."""
        reason = None
        if create_graph:
            reason = ('second order: torch.compile does not differentiate '
                      'its graphs twice')
        elif (buffers := self._buffers_named()) is not None:
            reason = (f'the networks have {buffers}; compiled steps cover '
                      'buffer-free networks only')
        if reason is None:
            return self._compiled[mode.batched]
        self.runner.note(f'metagan_mm: inner_loop.compile ignored, inner '
                         f'steps run eagerly: {reason}.')
        return mode

    def _initial_state(self, init: Optional[TaskState],
                       num_tasks: Optional[int]) -> TaskState:
        params = init.params if init is not None else self.meta_params()
        buffers = init.buffers if init is not None else {
            n: meta_buffers(m)
            for n, m in self.modules.items()
        }
        opt = {n: AdamState() for n in params}
        if num_tasks is None:  # each task adapts its own copy of the buffers
            return TaskState({
                n: OrderedDict(p)
                for n, p in params.items()
            }, tree_map(torch.clone, buffers), opt)
        expand = lambda v: v.unsqueeze(0).expand(num_tasks, *v.shape)  # noqa
        return TaskState(tree_map(expand, params), buffers, opt)

    def adapt_tasks(self,
                    tasks: Tensor,
                    rand: TensorDict,
                    rates: Optional[Rates] = None,
                    create_graph: bool = False) -> Tuple[Adapted, bool]:
        """Adapt to each of ``T`` tasks, batched as the runner decides.

        Args:
            tasks: ``[T, N, C, H, W]``.
            rand: From :meth:`sample_randomness` (leading dim ``T``).
            rates: See :meth:`adapt`.
            create_graph: Second order if True.

        Returns:
            :class:`Adapted` with a leading task dim, and whether vmap ran.
        """

        def run(mode: Mode, real: Tensor, rand_c: TensorDict) -> Adapted:
            out = self.adapt(
                real,
                rand_c,
                rates=rates,
                create_graph=create_graph,
                mode=mode)
            return out if mode.batched else tree_map(lambda v: v.unsqueeze(0),
                                                     out)

        return self.runner.run(
            run, lambda a, b: tree_map(lambda x, y: torch.cat([x, y]), a, b),
            tasks, rand)
