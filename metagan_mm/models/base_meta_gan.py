"""OpenMMLab glue shared by every meta-learned GAN."""
import dataclasses
import difflib
from collections import OrderedDict
from copy import deepcopy
from typing import Any, Dict, List, Optional, Tuple

import torch
from mmagic.models.base_models import BaseGAN
from mmengine import dist
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapperDict
from torch import Tensor

from torch.utils._pytree import tree_map

from metagan_mm.core import InnerLoop, InnerLoopConfig, check_pair
from metagan_mm.core.batching import stack_tree

TensorDict = Dict[str, Tensor]


def build_inner_config(cfg: dict) -> InnerLoopConfig:
    """Build :class:`InnerLoopConfig`, naming unknown keys and close ones.

    Args:
        cfg (dict): The ``model.inner_loop`` config.

    Raises:
        KeyError: For a key that is not an inner-loop setting.
    """
    fields = [f.name for f in dataclasses.fields(InnerLoopConfig)]
    for key in cfg:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ''
            raise KeyError(f"model.inner_loop has no setting '{key}'.{hint} "
                           f'Valid settings: {", ".join(fields)}.')
    return InnerLoopConfig(**cfg)


class MetaTrainingError(RuntimeError):
    """Raised when too many tasks of a meta-batch fail (NaN/Inf)."""


class BaseMetaGAN(BaseGAN):
    """A GAN whose weights are a meta-learned initialisation.

    Subclasses pick the meta-learning algorithm (:meth:`build_algorithm`);
    everything else is shared: the inner loop (:mod:`metagan_mm.core`), the
    per-task randomness, writing meta-gradients into ``.grad``, averaging
    them across ranks once per meta-iteration, stepping mmengine optimizer
    wrappers (so param schedulers and gradient clipping apply), EMA, logging,
    and few-shot adaptation for evaluation and generation.

    Data: ``inputs`` of shape ``[T, N, C, H, W]`` (``T`` tasks of ``N``
    images, normalised by mmagic's ``DataPreprocessor``); ``data_samples``
    may carry ``task_index`` (global task index, seeds the task's noise so
    that runs are identical whatever the number of ranks) and ``k_shot``.

    Args:
        generator (dict): Generator config (built from ``MODELS``).
        discriminator (dict): Discriminator config.
        data_preprocessor (dict, optional): mmagic ``DataPreprocessor`` config.
        inner_loop (dict): :class:`~metagan_mm.core.InnerLoopConfig` fields:
            ``steps``, ``g_lr``, ``d_lr``, ``optimizer``, ``loss``...
        noise_size (int, optional): Noise size of the generator.
        ema_config (dict, optional): mmagic EMA config of the generator.
        batched (bool): Run the inner loops of a meta-batch as one vmapped
            computation (falls back to a loop where vmap cannot be used).
        max_failed_fraction (float): Stop training when more than this
            fraction of a meta-batch has non-finite inner losses.
        seed (int): Seed of the per-task noise.
        fewshot_init (str): Where few-shot adaptation (:meth:`adapt`)
            starts: ``'meta'`` (default) from the meta-weights, ``'random'``
            from freshly initialised G and D (seeded by ``adapt``'s ``seed``;
            the from-scratch baseline: a GAN trained only on the K images for
            the adaptation steps). Training is unaffected.
    """

    def __init__(self,
                 generator: dict,
                 discriminator: dict,
                 data_preprocessor: Optional[dict] = None,
                 inner_loop: Optional[dict] = None,
                 noise_size: Optional[int] = None,
                 ema_config: Optional[dict] = None,
                 batched: bool = True,
                 max_failed_fraction: float = 0.5,
                 seed: int = 0,
                 fewshot_init: str = 'meta') -> None:
        super().__init__(
            generator=generator,
            discriminator=discriminator,
            data_preprocessor=data_preprocessor,
            noise_size=noise_size,
            ema_config=ema_config)
        if not 0 <= max_failed_fraction <= 1:
            raise ValueError(
                f'max_failed_fraction={max_failed_fraction} must be in [0, 1].')
        if fewshot_init not in ('meta', 'random'):
            raise ValueError(f"fewshot_init={fewshot_init!r}; use 'meta' "
                             "(adapt the meta-weights) or 'random' (adapt "
                             'freshly initialised weights).')
        self.fewshot_init = fewshot_init
        self.inner_cfg = build_inner_config(inner_loop or {})
        check_pair(self.generator, self.discriminator, self.noise_size)
        self.inner_loop = InnerLoop(self.generator, self.discriminator,
                                    self.inner_cfg)
        self.batched = batched
        self.max_failed_fraction = max_failed_fraction
        self.seed = seed
        self.algorithm = self.build_algorithm()

    # ------------------------------------------------------------ algorithm
    def build_algorithm(self) -> Any:
        """Return the torch-only algorithm object (subclasses override)."""
        raise NotImplementedError

    def algorithm_kwargs(self, data_samples: Optional[list]) -> dict:
        """Extra keyword arguments of ``algorithm.meta_gradients``."""
        return {}

    def after_meta_step(self, logs: Dict[str, Any]) -> Dict[str, Tensor]:
        """Hook after the outer step; returns extra values to log."""
        return {}

    # -------------------------------------------------------------- helpers
    @staticmethod
    def _task_indices(data_samples: Optional[list], num_tasks: int,
                      curr_iter: int) -> List[int]:
        indices = []
        for t in range(num_tasks):
            sample = data_samples[t] if data_samples else None
            index = sample.metainfo.get('task_index') if sample is not None \
                else None
            indices.append(int(index) if index is not None else
                           curr_iter * num_tasks + t)
        return indices

    def sample_task_randomness(self, task_indices: List[int],
                               n_images: int) -> TensorDict:
        """Draw each task's inner-loop noise from ``(seed, task_index)``.

        Batched and sequential inner loops, and any number of ranks, see the
        same noise for the same task.
        """
        per_task = []
        for index in task_indices:
            gen = torch.Generator().manual_seed(
                (self.seed * 1_000_003 + index) % (2**63))
            per_task.append(
                self.algorithm.sample_randomness(self.inner_loop, 1, n_images,
                                                 self.noise_size, gen))
        # drop each draw's task dim of 1, then stack along a new task dim
        return stack_tree([tree_map(lambda t: t[0], r) for r in per_task])

    @staticmethod
    def _write_grads(module: torch.nn.Module, grads: TensorDict) -> None:
        for name, param in module.named_parameters():
            grad = grads.get(name)
            param.grad = None if grad is None else grad.detach().to(
                param.dtype).clone()

    def sync_meta_gradients(self, num_valid: int,
                            extra: Tuple[torch.nn.Module, ...] = ()) -> int:
        """Average meta-gradients over every valid task of every rank.

        Each rank's gradients are means over its ``num_valid`` valid tasks;
        they are weighted by that count, summed across ranks and divided by
        the total, so ``W`` ranks of ``T`` tasks equal one rank of ``W*T``.

        Args:
            num_valid (int): Valid tasks on this rank.
            extra (tuple): More modules/parameters holding meta-gradients.

        Returns:
            int: Valid tasks over all ranks.
        """
        if dist.get_world_size() == 1:
            return num_valid
        count = torch.tensor([float(num_valid)])
        dist.all_reduce(count)
        total = int(count.item())
        params = [
            p for m in (self.generator, self.discriminator) + tuple(extra)
            for p in m.parameters() if p.grad is not None
        ]
        if not params:
            return total
        flat = torch.cat([p.grad.flatten() for p in params]) * num_valid
        dist.all_reduce(flat)
        flat /= max(total, 1)
        offset = 0
        for p in params:
            n = p.grad.numel()
            p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
            offset += n
        return total

    def _average_buffers(self, module: torch.nn.Module,
                         buffers: TensorDict) -> None:
        """Set float buffers (e.g. BatchNorm statistics) to the task mean."""
        for name, buf in module.named_buffers():
            if name in buffers and buf.is_floating_point():
                value = buffers[name].to(buf.dtype)
                if dist.get_world_size() > 1:
                    value = value.clone()
                    dist.all_reduce(value, op='mean')
                buf.copy_(value)

    # ------------------------------------------------------------ training
    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One meta-iteration over the meta-batch of tasks in ``data``."""
        hub = MessageHub.get_current_instance()
        curr_iter = hub.get_info('iter') or 0
        samples = data.get('data_samples')  # per-task list, before stacking
        data = self.data_preprocessor(data, True)
        tasks = data['inputs']
        if tasks.dim() != 5:
            raise ValueError(
                f'{type(self).__name__} expects a meta-batch of tasks shaped '
                f'[tasks, images, C, H, W], got {tuple(tasks.shape)}. Use '
                "EpisodicDataset with collate_fn=dict(type='episodic_collate')"
                '.')
        rand = self.sample_task_randomness(
            self._task_indices(samples, tasks.shape[0], curr_iter),
            tasks.shape[1])
        g_grads, d_grads, logs = self.algorithm.meta_gradients(
            self.inner_loop, tasks, rand, batched=self.batched,
            **self.algorithm_kwargs(samples))
        num_tasks, num_skipped = int(logs['num_tasks']), int(
            logs['num_skipped'])
        self._check_failures(num_tasks, num_skipped, curr_iter)
        self._write_grads(self.generator, g_grads)
        self._write_grads(self.discriminator, d_grads)
        self.write_extra_grads(logs)
        self.sync_meta_gradients(num_tasks - num_skipped,
                                 self.meta_extra_modules())
        log_vars = self._grad_norms()
        for name in self.outer_optimizer_names():
            if name not in optim_wrapper:
                raise KeyError(
                    f"optim_wrapper has no '{name}' entry; "
                    f'{type(self).__name__} steps {self.outer_optimizer_names()}'
                    f'. Add {name}=dict(optimizer=...) to optim_wrapper.')
            self._step(optim_wrapper[name], getattr(self, name))
        self._average_buffers(self.generator, logs.get('g_buffers', {}))
        self._average_buffers(self.discriminator, logs.get('d_buffers', {}))
        self._update_ema(curr_iter)
        log_vars.update(self._loss_logs(logs, num_tasks, num_skipped))
        log_vars.update(self.after_meta_step(logs))
        return log_vars

    @staticmethod
    def _step(wrapper: Any, module: torch.nn.Module) -> None:
        """Step one outer optimizer wrapper with the meta-gradients.

        ``AmpOptimWrapper`` (``--amp``) unscales gradients by its loss scale
        before stepping; meta-gradients are written unscaled, so they are
        multiplied by that scale first.
        """
        scaler = getattr(wrapper, 'loss_scaler', None)
        if scaler is not None:
            scale = scaler.get_scale()
            for param in module.parameters():
                if param.grad is not None:
                    param.grad.mul_(scale)
        wrapper.step()
        wrapper.zero_grad()

    def meta_extra_modules(self) -> Tuple[torch.nn.Module, ...]:
        """Modules besides G and D that hold meta-gradients (learned rates)."""
        return ()

    def outer_optimizer_names(self) -> Tuple[str, ...]:
        """Keys of ``optim_wrapper`` stepped once per meta-iteration."""
        return ('generator', 'discriminator')

    def write_extra_grads(self, logs: Dict[str, Any]) -> None:
        """Write meta-gradients of :meth:`meta_extra_modules` (no-op)."""

    def _check_failures(self, num_tasks: int, num_skipped: int,
                        curr_iter: int) -> None:
        total = torch.tensor([float(num_tasks), float(num_skipped)])
        if dist.get_world_size() > 1:
            dist.all_reduce(total)
        if total[1] > self.max_failed_fraction * total[0]:
            raise MetaTrainingError(
                f'iteration {curr_iter + 1}: {int(total[1])} of '
                f'{int(total[0])} tasks had non-finite (NaN/Inf) inner losses '
                f'or weights, more than max_failed_fraction='
                f'{self.max_failed_fraction}. The meta-weights were not '
                'updated and the last checkpoint is intact. Lower the inner '
                'learning rates (inner_loop.g_lr / d_lr), use gradient '
                'clipping, or check the data for broken images.')

    def _grad_norms(self) -> Dict[str, Tensor]:
        out = {}
        for key, module in (('g', self.generator), ('d', self.discriminator)):
            grads = [p.grad.flatten() for p in module.parameters()
                     if p.grad is not None]
            out[f'meta_grad_norm_{key}'] = torch.cat(grads).norm() if grads \
                else torch.zeros(())
        return out

    @staticmethod
    def _loss_logs(logs: Dict[str, Any], num_tasks: int,
                   num_skipped: int) -> Dict[str, Tensor]:
        out = {'tasks_skipped': torch.tensor(float(num_skipped))}
        for key in ('inner_d_loss', 'inner_g_loss'):
            losses = logs.get(key)
            if losses is not None and losses.numel():
                out[f'loss_{key}_first'] = losses[0].detach()
                out[f'loss_{key}_last'] = losses[-1].detach()
        for key in ('outer_d_loss', 'outer_g_loss'):
            if logs.get(key) is not None:
                out[f'loss_{key}'] = torch.as_tensor(logs[key]).detach()
        return out

    def _update_ema(self, curr_iter: int) -> None:
        if not self.with_ema_gen:
            return
        if curr_iter + 1 >= self.ema_start:
            self.generator_ema.update_parameters(self.generator)
            if not self.generator_ema.update_buffers:
                self.generator_ema.sync_buffers(self.generator)
        else:
            self.generator_ema.sync_parameters(self.generator)

    # ------------------------------------------------------------ few-shot
    def inner_loop_with_steps(self, steps: Optional[int]) -> InnerLoop:
        """The inner loop, or a copy running ``steps`` inner steps."""
        if steps is None or steps == self.inner_cfg.steps:
            return self.inner_loop
        cfg = deepcopy(self.inner_cfg)
        cfg.steps = steps
        cfg.validate()
        return InnerLoop(self.generator, self.discriminator, cfg)

    def adapt(self,
              support: Tensor,
              steps: Optional[int] = None,
              seed: int = 0) -> Tuple[TensorDict, TensorDict]:
        """Adapt a copy of the meta-weights to ``support`` images.

        The meta-weights are left untouched. With ``fewshot_init='random'``
        the inner loop starts instead from freshly initialised copies of G
        and D (every module's ``reset_parameters``, under a forked torch RNG
        seeded with ``seed``: repeatable, global RNG untouched).

        Args:
            support (Tensor): ``[K, C, H, W]`` images, normalised like the
                training data (``[-1, 1]``).
            steps (int, optional): Inner steps (default: as in training).
            seed (int): Seed of the inner-loop noise (and of the fresh
                weights with ``fewshot_init='random'``).

        Returns:
            tuple: Adapted generator parameters and buffers.
        """
        g_init = d_init = g_bufs = d_bufs = None
        if getattr(self, 'fewshot_init', 'meta') == 'random':
            fresh = []
            devices = [self.device] if self.device.type == 'cuda' else []
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(seed)
                for module in (self.generator, self.discriminator):
                    module = deepcopy(module)
                    for m in module.modules():
                        if hasattr(m, 'reset_parameters'):
                            m.reset_parameters()
                    fresh.append(
                        (OrderedDict((k, v.detach()) for k, v in
                                     module.named_parameters()),
                         OrderedDict((k, v.detach()) for k, v in
                                     module.named_buffers())))
            (g_init, g_bufs), (d_init, d_bufs) = fresh
        if steps == 0:  # the initial model itself, without adaptation
            if g_init is not None:
                return g_init, g_bufs
            return ({k: v.detach() for k, v in
                     self.generator.named_parameters()},
                    {k: v.detach() for k, v in self.generator.named_buffers()})
        loop = self.inner_loop_with_steps(steps)
        gen = torch.Generator().manual_seed(seed)
        rand = loop.sample_randomness(1, support.shape[0], self.noise_size,
                                      gen)
        rand = {k: v[0] for k, v in rand.items()}
        g_lrs, d_lrs = self.adaptation_rates()
        with torch.enable_grad():
            result = loop.adapt(support.to(self.device), g_params=g_init,
                                d_params=d_init,
                                rand=rand,
                                g_lrs=g_lrs,
                                d_lrs=d_lrs,
                                create_graph=False,
                                g_buffers=g_bufs,
                                d_buffers=d_bufs)
        return ({k: v.detach() for k, v in result.g_params.items()},
                {k: v.detach() for k, v in result.g_buffers.items()})

    def fewshot_step(self,
                     data: dict,
                     num_samples: int,
                     steps: Optional[int] = None,
                     seed: int = 0) -> List[dict]:
        """Adapt to each class of an evaluation batch and generate.

        Args:
            data (dict): A collated batch of ``EpisodicDataset(mode='eval')``
                items: ``inputs`` with ``support`` ``[B, K, C, H, W]`` and
                ``reference`` ``[B, R, C, H, W]`` (zero-padded; each
                sample's ``num_reference`` says how many are real).
            num_samples (int): Images to generate per class.
            steps (int, optional): Adaptation steps (default: training's;
                0 evaluates the meta-model without adaptation).
            seed (int): Base seed; class ``c`` uses ``seed + c``.

        Returns:
            list[dict]: Per class ``class_idx``, ``class_name``, ``fake``
            ``[M, C, H, W]``, ``real`` ``[R, C, H, W]`` and ``support``
            ``[K, C, H, W]``, all in ``[-1, 1]`` on the CPU.
        """
        inputs, samples = data['inputs'], data['data_samples']
        if not isinstance(samples, (list, tuple)):
            samples = samples.split() if hasattr(samples, 'split') else [
                samples
            ]
        support = self._normalise(inputs['support'])
        reference = self._normalise(inputs['reference'])
        out = []
        for b, sample in enumerate(samples):
            meta = sample.metainfo
            num_ref = int(meta.get('num_reference', reference.shape[1]))
            fake = self.generate_adapted(support[b], num_samples, steps,
                                         seed + int(meta['class_idx']))
            out.append(
                dict(class_idx=int(meta['class_idx']),
                     class_name=meta.get('class_name', str(meta['class_idx'])),
                     fake=fake.cpu(),
                     real=reference[b, :num_ref].cpu(),
                     support=support[b].cpu()))
        return out

    def _normalise(self, images: Any) -> Tensor:
        """Normalise a ``[B, N, C, H, W]`` uint8 batch like training data."""
        if isinstance(images, (list, tuple)):
            images = torch.stack(list(images))
        return self.data_preprocessor(dict(inputs=images), False)['inputs']

    def adaptation_rates(
            self) -> Tuple[Optional[TensorDict], Optional[TensorDict]]:
        """Learned inner learning rates (G, D) for adaptation, if any."""
        return None, None

    @torch.no_grad()
    def generate_adapted(self,
                         support: Tensor,
                         num: int,
                         steps: Optional[int] = None,
                         seed: int = 0) -> Tensor:
        """Adapt to ``support`` and generate ``num`` images in ``[-1, 1]``.

        Args:
            support (Tensor): ``[K, C, H, W]`` normalised support images.
            num (int): Number of images to generate.
            steps (int, optional): Inner steps (default: as in training).
            seed (int): Seed of adaptation and generation noise.

        Returns:
            Tensor: ``[num, C, H, W]`` generated images.
        """
        g_params, g_buffers = self.adapt(support, steps, seed)
        gen = torch.Generator().manual_seed(seed + 1)
        noise = torch.randn(num, self.noise_size, generator=gen).to(
            self.device)
        was_training = self.generator.training
        self.generator.eval()
        try:
            out = self.inner_loop.generate(g_params, g_buffers or None, noise)
        finally:
            self.generator.train(was_training)
        return out

