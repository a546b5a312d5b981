"""Few-shot adaptation and generation shared by every meta-learned GAN."""
from copy import deepcopy
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import Tensor
from torch.utils._pytree import tree_leaves, tree_map

from metagan_mm.core import InnerLoop, Task, TaskState
from metagan_mm.core.objective import E, G
from metagan_mm.core.params import TensorDict, detach_dict

Weights = Dict[str, TensorDict]  # meta-module -> name -> tensor


class FewShotMixin:
    """Adapt a copy of the (meta-)weights to K images and generate.

    Used by :class:`~metagan_mm.models.MetaGAN` (evaluation loops,
    visualisation hook, ``tools/generate.py``).  It reads the model's
    ``inner_loop``, ``algorithm`` (for learned rates), ``noise_size``,
    ``fewshot_init``, ``data_preprocessor`` and ``device``; nothing here
    changes the meta-weights.
    """

    def inner_loop_with_steps(self, steps: Optional[int]) -> InnerLoop:
        """The inner loop, or a copy running ``steps`` inner steps."""
        if steps is None or steps == self.inner_loop.cfg.steps:
            return self.inner_loop
        return self.inner_loop.replace(steps=steps)

    def adapt(self,
              support: Tensor,
              steps: Optional[int] = None,
              seed: int = 0) -> Tuple[Weights, Weights]:
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
            tuple: Adapted parameters and buffers per meta-module
            (``'generator'``, ``'discriminator'`` and ``'encoder'`` if the
            model has one), detached.
        """
        init = None
        if getattr(self, 'fewshot_init', 'meta') == 'random':
            params, buffers = {}, {}
            devices = [self.device] if self.device.type == 'cuda' else []
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(seed)
                for name, module in self.inner_loop.modules.items():
                    module = deepcopy(module)
                    for m in module.modules():
                        if hasattr(m, 'reset_parameters'):
                            m.reset_parameters()
                    params[name] = detach_dict(dict(module.named_parameters()))
                    buffers[name] = detach_dict(dict(module.named_buffers()))
            init = TaskState(params, buffers)
        if steps == 0:  # the initial model itself, without adaptation
            if init is not None:
                return init.params, init.buffers
            modules = self.inner_loop.modules.items()
            return ({
                n: detach_dict(dict(m.named_parameters()))
                for n, m in modules
            }, {
                n: detach_dict(dict(m.named_buffers()))
                for n, m in modules
            })
        loop = self.inner_loop_with_steps(steps)
        rand = loop.randomness(support.shape[0],
                               torch.Generator().manual_seed(seed))
        with torch.enable_grad():
            result = loop.adapt(
                Task(support.to(self.device)),
                rand,
                init=init,
                rates=self.algorithm.adaptation_rates())
        self._check_finite(loop, result.params)
        return (tree_map(torch.Tensor.detach, result.params),
                tree_map(torch.Tensor.detach, result.buffers))

    def _check_finite(self, loop: InnerLoop, params: Weights) -> None:
        """Under mixed precision, raise if adaptation overflowed."""
        amp = loop.cfg.amp
        if amp is None or all(v.isfinite().all() for v in tree_leaves(params)):
            return
        scale = loop.loss_scale(self.device)
        at = '' if scale is None else f' at float16 loss scale {scale:g}'
        raise FloatingPointError(
            'few-shot adaptation under mixed precision (inner_loop.amp, '
            f'{amp.dtype_on(self.device.type)}) gave non-finite weights{at};'
            " use amp=dict(dtype='bfloat16') or full precision (no --amp).")

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
            samples = samples.split() if hasattr(samples,
                                                 'split') else [samples]
        support = self._normalise(inputs['support'])
        reference = self._normalise(inputs['reference'])
        out = []
        for b, sample in enumerate(samples):
            meta = sample.metainfo
            num_ref = int(meta.get('num_reference', reference.shape[1]))
            fake = self.generate_adapted(support[b], num_samples, steps,
                                         seed + int(meta['class_idx']))
            out.append(
                dict(
                    class_idx=int(meta['class_idx']),
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

    @torch.no_grad()
    def generate_adapted(self,
                         support: Tensor,
                         num: int,
                         steps: Optional[int] = None,
                         seed: int = 0) -> Tensor:
        """Adapt to ``support`` and generate ``num`` images in ``[-1, 1]``.

        A conditioned model embeds ``support`` with its (adapted) encoder
        and conditions every generation on it (per-image encoders: image
        ``i`` on shot ``i mod K``); with ``steps=0`` no gradient step runs.

        Args:
            support (Tensor): ``[K, C, H, W]`` normalised support images.
            num (int): Number of images to generate.
            steps (int, optional): Inner steps (default: as in training).
            seed (int): Seed of adaptation and generation noise.

        Returns:
            Tensor: ``[num, C, H, W]`` generated images.
        """
        params, buffers = self.adapt(support, steps, seed)
        gen = torch.Generator().manual_seed(seed + 1)
        noise = torch.randn(
            num, self.noise_size, generator=gen).to(self.device)
        modules = [self.inner_loop.modules[n] for n in (G, E) if n in params]
        was_training = [m.training for m in modules]
        for m in modules:
            m.eval()
        try:
            nets = self.inner_loop.nets(params, {
                n: b
                for n, b in buffers.items() if b
            })
            out = nets.generate(noise, nets.condition(support.to(self.device)))
        finally:
            for m, mode in zip(modules, was_training):
                m.train(mode)
        return out
