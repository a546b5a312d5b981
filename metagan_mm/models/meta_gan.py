"""The OpenMMLab model of every meta-learned GAN."""
from typing import Any, Dict, List, Optional

import torch
from mmagic.models.base_models import BaseGAN
from mmengine import dist
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapperDict
from torch import Tensor, nn

from metagan_mm.core import (InnerLoop, InnerLoopConfig, MetaDriver,
                             MetaTrainingError, Task, build_algorithm,
                             check_pair)
from metagan_mm.core.algorithms.double_backward import check_derivative_orders
from metagan_mm.core.params import TensorDict, stack_tree
from metagan_mm.registry import MODELS
from .fewshot_mixin import FewShotMixin

__all__ = ['MetaGAN', 'MetaTrainingError']

#: MessageHub runtime info of the inner loop's float16 loss scale.
LOSS_SCALER_KEY = 'inner_loss_scaler'


@MODELS.register_module()
class MetaGAN(FewShotMixin, BaseGAN):
    """A GAN whose weights are a meta-learned initialisation, trained by
    any registered meta-learning algorithm.

    ``algorithm=dict(type='Reptile')`` names a
    :class:`~metagan_mm.core.MetaAlgorithm` registered in
    :data:`metagan_mm.core.ALGORITHMS` (a file in
    ``metagan_mm/core/algorithms/``, or a module in ``custom_imports``);
    everything else is shared: the inner loop (:mod:`metagan_mm.core`) with
    its objective, the per-task randomness, the driver
    (:class:`~metagan_mm.core.MetaDriver`: batching, failed tasks, out of
    memory), writing the meta-gradients into ``.grad`` of every meta-module
    (G, D, E and the modules the algorithm owns, e.g. Meta-SGD's
    ``inner_rates``), averaging them across ranks once per meta-iteration,
    stepping one mmengine optimizer wrapper per meta-module (so param
    schedulers, gradient clipping and AMP apply), EMA, logging, and few-shot
    adaptation for evaluation and generation. ``ReptileGAN``, ``MAMLGAN``...
    are this class with the algorithm's name and options at the top level
    of the config (mmagic's one ``type`` per algorithm).

    When built, the pair is checked (shapes; derivatives of the orders the
    algorithm and loss take, see
    :func:`~metagan_mm.core.algorithms.double_backward.check_derivative_orders`).

    Data: ``inputs`` of shape ``[T, N, C, H, W]`` (``T`` tasks of ``N``
    images, normalised by mmagic's ``DataPreprocessor``); ``data_samples``
    may carry ``task_index`` (global task index, seeds the task's noise so
    that runs are identical whatever the number of ranks), ``k_shot`` and
    ``class_idx`` (the task's label, for objectives with a class head).

    Args:
        generator (dict): Generator config (built from ``MODELS``).
        discriminator (dict): Discriminator config.
        algorithm (dict, optional): ``dict(type=name, **options)`` of a
            registered algorithm; a thin subclass (``ReptileGAN``...) fills
            it from its ``algorithm_type`` and the extra keyword arguments.
        data_preprocessor (dict, optional): mmagic ``DataPreprocessor`` config.
        inner_loop (dict): :class:`~metagan_mm.core.InnerLoopConfig` fields:
            ``steps``, ``g_lr``, ``d_lr``, ``optimizer``, ``loss``,
            ``batching``, ``amp`` (mixed precision, set by
            ``tools/train.py --amp``)...
        objective (dict, optional): A :class:`~metagan_mm.core.GANObjective`
            built from ``MODELS`` (default: the inner loop's ``loss``,
            ``gp_weight``, ``recon_weight``, ``mode_seeking_weight``).
        noise_size (int, optional): Noise size of the generator.
        encoder (dict, optional): Condition encoder config (e.g.
            ``SupportSetEncoder``): a third meta-module, meta-trained and
            adapted with G and D, that embeds a task's images into the
            condition of a conditioned generator (and discriminator); at
            generation time it embeds the K shots. Stepped by
            ``optim_wrapper.encoder``.
        ema_config (dict, optional): mmagic EMA config of the generator.
        max_failed_fraction (float): Stop training when more than this
            fraction of a meta-batch has non-finite inner losses.
        seed (int): Seed of the per-task noise.
        fewshot_init (str): Where few-shot adaptation (:meth:`adapt`)
            starts: ``'meta'`` (default) from the meta-weights, ``'random'``
            from freshly initialised G and D (seeded by ``adapt``'s ``seed``;
            the from-scratch baseline: a GAN trained only on the K images for
            the adaptation steps). Training is unaffected.
        oom_fallback (bool): When second-order meta-gradients run out of
            memory, go on with gradient checkpointing, then first order
            (logged); False stops with an error naming the options.
        **options: The algorithm's options, with a thin subclass's
            ``algorithm_type`` only.
    """

    #: The algorithm of a thin subclass (``ReptileGAN``: ``'Reptile'``).
    algorithm_type: Optional[str] = None

    def __init__(self,
                 generator: dict,
                 discriminator: dict,
                 algorithm: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 inner_loop: Optional[dict] = None,
                 objective: Optional[dict] = None,
                 noise_size: Optional[int] = None,
                 encoder: Optional[dict] = None,
                 ema_config: Optional[dict] = None,
                 max_failed_fraction: float = 0.5,
                 seed: int = 0,
                 fewshot_init: str = 'meta',
                 oom_fallback: bool = True,
                 **options: Any) -> None:
        algorithm = self._algorithm_cfg(algorithm, options)
        super().__init__(
            generator=generator,
            discriminator=discriminator,
            data_preprocessor=data_preprocessor,
            noise_size=noise_size,
            ema_config=ema_config)
        if not 0 <= max_failed_fraction <= 1:
            raise ValueError(
                f'max_failed_fraction={max_failed_fraction} must be in [0, 1].'
            )
        if fewshot_init not in ('meta', 'random'):
            raise ValueError(f"fewshot_init={fewshot_init!r}; use 'meta' "
                             "(adapt the meta-weights) or 'random' (adapt "
                             'freshly initialised weights).')
        self.fewshot_init = fewshot_init
        self.encoder = None if encoder is None else MODELS.build(encoder)
        self.check_networks()
        self.inner_loop = InnerLoop(
            self.generator, self.discriminator,
            InnerLoopConfig.from_dict(inner_loop
                                      or {}), self.noise_size, self.encoder,
            None if objective is None else MODELS.build(objective))
        self.max_failed_fraction = max_failed_fraction
        self.seed = seed
        try:
            self.algorithm = build_algorithm(algorithm, self.inner_loop)
        except TypeError as err:
            raise TypeError(f'{type(self).__name__}: bad options for the '
                            f'algorithm {algorithm["type"]}: {err}') from err
        if self.encoder is not None and not self.algorithm.trains_encoder:
            raise ValueError(
                f'{type(self).__name__} cannot train a condition encoder '
                f'({type(self.encoder).__name__}): its algorithm '
                f'{algorithm["type"]} does not; use one that does (Reptile, '
                'MAML, MetaSGD) or remove model.encoder.')
        check_derivative_orders(self.inner_loop, self.algorithm.second_order)
        for name, module in self.algorithm.modules().items():
            self.add_module(name, module)
        self.driver = MetaDriver(
            self.algorithm,
            self.inner_loop,
            oom_fallback=oom_fallback,
            log=lambda msg: print_log(msg, logger='current', level=30))

    def check_networks(self) -> None:
        """Check at build time that G, D (and E) fit together (a subclass
        for other kinds of generator overrides it)."""
        check_pair(self.generator, self.discriminator, self.noise_size,
                   self.encoder)

    def _algorithm_cfg(self, algorithm: Optional[dict],
                       options: Dict[str, Any]) -> dict:
        """``dict(type=..., **options)`` from ``algorithm`` or from a thin
        subclass's ``algorithm_type`` and options."""
        if 'batched' in options:
            raise KeyError(
                'model.batched was replaced: use model.inner_loop.batching='
                "dict(mode='auto'|'vmap'|'loop') (batched=True is "
                "mode='vmap', False is mode='loop').")
        name = type(self).__name__
        if algorithm is None and self.algorithm_type is None:
            raise ValueError(
                f"{name} needs model.algorithm=dict(type='Reptile', ...) "
                '(any registered meta-learning algorithm).')
        if algorithm is not None and options:
            raise TypeError(f'{name} got unexpected settings '
                            f'{sorted(options)}; algorithm options go in '
                            'model.algorithm.')
        if algorithm is None:
            return dict(type=self.algorithm_type, **options)
        if self.algorithm_type is not None:
            raise TypeError(f'{name} trains {self.algorithm_type}; use '
                            "type='MetaGAN' to name another algorithm.")
        return dict(algorithm)

    def meta_modules(self) -> Dict[str, nn.Module]:
        """The meta-learned modules, by optimizer wrapper name."""
        return {**self.inner_loop.modules, **self.algorithm.modules()}

    # -------------------------------------------------------------- helpers
    @staticmethod
    def _task_indices(data_samples: Optional[list], num_tasks: int,
                      curr_iter: int) -> List[int]:
        indices = []
        for t in range(num_tasks):
            sample = data_samples[t] if data_samples else None
            index = sample.metainfo.get('task_index') if sample is not None \
                else None
            indices.append(
                int(index) if index is not None else curr_iter * num_tasks + t)
        return indices

    def sample_task_randomness(self, task_indices: List[int],
                               n_images: int) -> Dict[str, Any]:
        """Draw each task's inner-loop noise from ``(seed, task_index)``.

        Batched and sequential inner loops, and any number of ranks, see the
        same noise for the same task.
        """
        per_task = []
        for index in task_indices:
            gen = torch.Generator().manual_seed(
                (self.seed * 1_000_003 + index) % (2**63))
            per_task.append(
                self.algorithm.randomness(self.inner_loop, n_images, gen))
        return stack_tree(per_task)

    def sync_meta_gradients(self, num_valid: int, total_valid: int) -> None:
        """Average meta-gradients over every valid task of every rank.

        Each rank's gradients are means over its ``num_valid`` valid tasks;
        they are weighted by that count, summed across ranks (one
        all-reduce for all meta-modules) and divided by the total, so ``W``
        ranks of ``T`` tasks equal one rank of ``W*T``.

        Args:
            num_valid (int): Valid tasks on this rank.
            total_valid (int): Valid tasks over all ranks (from
                :meth:`_check_failures`, which already reduced the counts).
        """
        if dist.get_world_size() == 1:
            return
        params = [
            p for m in self.meta_modules().values() for p in m.parameters()
            if p.grad is not None
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

    def _average_buffers(self, module: nn.Module, buffers: TensorDict) -> None:
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
        curr_iter = MessageHub.get_current_instance().get_info('iter') or 0
        samples = data.get('data_samples')  # per-task list, before stacking
        tasks = self.data_preprocessor(data, True)['inputs']
        if tasks.dim() != 5:
            raise ValueError(
                f'{type(self).__name__} expects a meta-batch of tasks shaped '
                f'[tasks, images, C, H, W], got {tuple(tasks.shape)}. Use '
                "EpisodicDataset with collate_fn=dict(type='episodic_collate')"
                '.')
        k_shot = samples[0].metainfo.get('k_shot') if samples else None
        support = self.algorithm.num_support
        if None not in (k_shot, support) and int(k_shot) != support:
            raise ValueError(
                f'the tasks have k_shot={k_shot} support images but '
                f'model.num_support={support}; set both to the same value.')
        modules = self.meta_modules()
        self._check_wrappers(optim_wrapper, modules)
        rand = self.sample_task_randomness(
            self._task_indices(samples, tasks.shape[0], curr_iter),
            tasks.shape[1])
        labels = self._labels(samples)
        if labels is not None:
            labels = labels.to(tasks.device)
        result = self._run_driver(Task(tasks, labels), rand)
        total_valid = self._check_failures(result.num_tasks, result.num_valid,
                                           curr_iter)
        for name, module in modules.items():
            grads = result.grads.get(name, {})
            for key, param in module.named_parameters():
                grad = grads.get(key)
                param.grad = None if grad is None else grad.to(
                    param.dtype).clone()
        self.sync_meta_gradients(result.num_valid, total_valid)
        log_vars = self._grad_norms()
        for name, module in modules.items():
            self._step(optim_wrapper[name], module)
        for name, buffers in result.buffers.items():
            self._average_buffers(modules[name], buffers)
        self._update_ema(curr_iter)
        log_vars['tasks_skipped'] = torch.tensor(
            float(result.num_tasks - result.num_valid))
        log_vars['tasks_batched'] = torch.tensor(float(result.batched))
        losses = result.losses
        for name, value in (('inner_d', losses.inner_d), ('inner_g',
                                                          losses.inner_g)):
            if value is not None:
                log_vars[f'loss_{name}_loss_first'] = value[0]
                log_vars[f'loss_{name}_loss_last'] = value[-1]
        for name, value in (('outer_d', losses.outer_d), ('outer_g',
                                                          losses.outer_g)):
            if value is not None:
                log_vars[f'loss_{name}_loss'] = value
        log_vars.update(self.algorithm.after_update())
        return log_vars

    def _run_driver(self, tasks: Task, rand: Dict[str, Any]) -> Any:
        """The driver on a meta-batch; the float16 loss scale of the inner
        loop (``inner_loop.amp``) is kept in the MessageHub, so that it is
        saved with checkpoints and restored on resume."""
        scaler = self.inner_loop.scaler
        if self.inner_loop.loss_scale(tasks.images.device) is None:
            return self.driver(tasks, rand)
        hub = MessageHub.get_current_instance()
        state = hub.get_info(LOSS_SCALER_KEY)
        if state is not None:
            scaler.load_state_dict(state)
        result = self.driver(tasks, rand)
        hub.update_info(LOSS_SCALER_KEY, scaler.state_dict())
        return result

    def _check_wrappers(self, optim_wrapper: OptimWrapperDict,
                        modules: Dict[str, nn.Module]) -> None:
        """One optimizer wrapper per meta-module, without options that a
        meta-iteration cannot honour."""
        name = type(self).__name__
        missing = [key for key in modules if key not in optim_wrapper]
        if missing:
            raise KeyError(
                f"optim_wrapper has no '{missing[0]}' entry; {name} steps "
                f'{list(modules)}. Add {missing[0]}=dict(optimizer=...) to '
                'optim_wrapper.')
        for key in modules:
            counts = getattr(optim_wrapper[key], '_accumulative_counts', 1)
            if counts != 1:
                raise ValueError(
                    f'optim_wrapper.{key}.accumulative_counts={counts} is '
                    f'not supported by {name}: meta-gradients are means over '
                    'the tasks of a meta-iteration and step once per '
                    'meta-iteration. Remove accumulative_counts and raise '
                    'train_dataloader.batch_size (tasks per meta-iteration) '
                    'instead.')

    @staticmethod
    def _labels(samples: Optional[list]) -> Optional[Tensor]:
        """``[T]`` class indices of the tasks, when every sample has one."""
        if not samples or any('class_idx' not in s.metainfo for s in samples):
            return None
        return torch.tensor([int(s.metainfo['class_idx']) for s in samples])

    @staticmethod
    def _step(wrapper: Any, module: nn.Module) -> None:
        """Step one outer optimizer wrapper with the meta-gradients.

        An ``AmpOptimWrapper`` (set in a config) unscales gradients by its
        loss scale before stepping; meta-gradients are written unscaled, so
        they are multiplied by that scale first.
        """
        scaler = getattr(wrapper, 'loss_scaler', None)
        if scaler is not None:
            scale = scaler.get_scale()
            for param in module.parameters():
                if param.grad is not None:
                    param.grad.mul_(scale)
        wrapper.step()
        wrapper.zero_grad()

    def _check_failures(self, num_tasks: int, num_valid: int,
                        curr_iter: int) -> int:
        """Stop when too many tasks of all ranks failed; return valid tasks
        over all ranks."""
        total = torch.tensor([float(num_tasks), float(num_tasks - num_valid)])
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
        """Meta-gradient norms of G, D (and E): ``meta_grad_norm_{g,d,e}``."""
        out = {}
        for name, module in self.inner_loop.modules.items():
            grads = [
                p.grad.flatten() for p in module.parameters()
                if p.grad is not None
            ]
            out[f'meta_grad_norm_{name[0]}'] = torch.cat(grads).norm() \
                if grads else torch.zeros(())
        return out

    def _update_ema(self, curr_iter: int) -> None:
        """mmagic's EMA schedule (``ema_config.start_iter``) on its averaged
        model, whose ``update_parameters`` also syncs the buffers when it
        does not average them."""
        if not self.with_ema_gen:
            return
        if curr_iter + 1 >= self.ema_start:
            self.generator_ema.update_parameters(self.generator)
        else:
            self.generator_ema.sync_parameters(self.generator)
