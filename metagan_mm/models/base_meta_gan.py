"""OpenMMLab glue shared by every meta-learned GAN."""
import dataclasses
import difflib
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
from mmagic.models.base_models import BaseGAN
from mmengine import dist
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapperDict
from torch import Tensor
from torch.utils._pytree import tree_map

from metagan_mm.core import InnerLoop, InnerLoopConfig, check_pair
from metagan_mm.core.batching import stack_tree

from .fewshot_mixin import FewShotMixin
from .types import TensorDict

# batched='auto' vmaps on the CPU up to this many G+D parameters: measured on
# 2 cores, FIGR DCGAN at base_channels 16 (0.19M) and 32 (0.54M) run 1.0-3.4x
# faster vmapped, at 64 (1.7M) 0.9-1.5x for 2-10x the memory (README,
# Benchmarks).
CPU_VMAP_MAX_PARAMS = 1_000_000


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


class BaseMetaGAN(FewShotMixin, BaseGAN):
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
        batched (bool | str): Run the inner loops of a meta-batch as one
            vmapped computation (True), as a loop over tasks (False), or
            ``'auto'`` (default): vmapped on CUDA, and on the CPU when G and
            D have at most ``CPU_VMAP_MAX_PARAMS`` (1M) parameters; larger
            nets loop on the CPU, where vmapping them was measured at most
            1.5x faster for 2-10x the memory (README, Benchmarks).
            Architectures vmap cannot batch always loop.
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
                 batched: Union[bool, str] = 'auto',
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
        if batched not in (True, False, 'auto'):
            raise ValueError(f"batched={batched!r}; use True, False or 'auto'.")
        self.batched = batched
        self.max_failed_fraction = max_failed_fraction
        self.seed = seed
        self.algorithm = self.build_algorithm()

    def use_batched(self, tasks: Tensor) -> bool:
        """Whether this meta-batch's inner loops run vmapped."""
        if self.batched == 'auto':
            return tasks.is_cuda or self.num_meta_params() <= \
                CPU_VMAP_MAX_PARAMS
        return bool(self.batched)

    def num_meta_params(self) -> int:
        """Parameters of the generator and discriminator."""
        return self.inner_loop.mapper.num_params()

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

    def sync_meta_gradients(self, num_valid: int, total_valid: int,
                            extra: Tuple[torch.nn.Module, ...] = ()) -> None:
        """Average meta-gradients over every valid task of every rank.

        Each rank's gradients are means over its ``num_valid`` valid tasks;
        they are weighted by that count, summed across ranks and divided by
        the total, so ``W`` ranks of ``T`` tasks equal one rank of ``W*T``.

        Args:
            num_valid (int): Valid tasks on this rank.
            total_valid (int): Valid tasks over all ranks (from
                :meth:`_check_failures`, which already reduced the counts).
            extra (tuple): More modules/parameters holding meta-gradients.
        """
        if dist.get_world_size() == 1:
            return
        params = [
            p for m in (self.generator, self.discriminator) + tuple(extra)
            for p in m.parameters() if p.grad is not None
        ]
        if not params:
            return
        flat = torch.cat([p.grad.flatten() for p in params]) * num_valid
        dist.all_reduce(flat)
        flat /= max(total_valid, 1)
        offset = 0
        for p in params:
            n = p.grad.numel()
            p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
            offset += n

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
            self.inner_loop, tasks, rand, batched=self.use_batched(tasks),
            **self.algorithm_kwargs(samples))
        num_tasks, num_skipped = int(logs['num_tasks']), int(
            logs['num_skipped'])
        total_valid = self._check_failures(num_tasks, num_skipped, curr_iter)
        self._write_grads(self.generator, g_grads)
        self._write_grads(self.discriminator, d_grads)
        self.write_extra_grads(logs)
        self.sync_meta_gradients(num_tasks - num_skipped, total_valid,
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
                        curr_iter: int) -> int:
        """Stop when too many tasks of all ranks failed; return valid tasks
        over all ranks."""
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
        return int(total[0] - total[1])

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
