"""MAML for GANs (first/second order) with the DAWSON option (torch only)."""
from typing import Any, Dict, Optional

import torch
from torch import Tensor

from ..batching import Mode
from ..inner_loop import D, E, G, InnerLoop, Rates, gan_noise
from ..params import TensorDict
from .base import MetaAlgorithm, MetaResult, Targets, TaskOutput
from .double_backward import second_order_error


class MAML(MetaAlgorithm):
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

    def __init__(self,
                 num_support: int,
                 first_order: bool = False,
                 separate_disc_adaptation: bool = False) -> None:
        if not isinstance(num_support, int) or num_support < 1:
            raise ValueError(
                f'num_support={num_support!r} must be an int >= 1.')
        self.num_support = num_support
        self.first_order = bool(first_order)
        self.separate_disc_adaptation = bool(separate_disc_adaptation)

    @property
    def second_order(self) -> bool:
        """Differentiate through the inner steps."""
        return not self.first_order

    def rates(self) -> Optional[Rates]:
        """Inner learning rates of the task adaptation (None: the config's)."""
        return None

    def sample_randomness(self,
                          inner: InnerLoop,
                          num_tasks: int,
                          n_images: int,
                          generator: Optional[torch.Generator] = None
                          ) -> Dict[str, Any]:
        """Pre-draw inner (support), outer and, for DAWSON, query-inner noise.

        Returns:
            dict: ``{'inner': ..., 'outer': {'z_d', 'alpha', 'z_g'}
            [, 'query_inner']}``
            with a leading task dim ``T``; outer batches have ``Q`` samples.
        """
        q = n_images - self.num_support
        if q < 1:
            raise ValueError(f'tasks have {n_images} images but num_support='
                             f'{self.num_support}: at least one query image '
                             'is needed (N > num_support).')
        rand = {
            'inner':
            inner.sample_randomness(num_tasks, self.num_support, generator),
            'outer':
            gan_noise((num_tasks, q), (num_tasks, q), inner.noise_size,
                      generator, next(inner.generator.parameters()),
                      inner.cfg.mode_seeking_weight > 0)
        }
        if self.separate_disc_adaptation:
            rand['query_inner'] = inner.sample_randomness(
                num_tasks, q, generator)
        return rand

    def targets(self, inner: InnerLoop) -> Targets:
        """D's outer loss trains D, G's outer loss trains G (and E)."""
        params = inner.meta_params()
        return {
            'outer_d_loss': {
                D: params[D]
            },
            'outer_g_loss': {
                n: params[n]
                for n in (G, E) if n in params
            }
        }

    def task(self, inner: InnerLoop, mode: Mode, real: Tensor,
             rand: Dict[str, Any]) -> TaskOutput:
        """Adapt on the support set, evaluate the outer losses on the query
        set (a conditioned model embeds the support set)."""
        cg, rates = not self.first_order, self.rates()
        support, query = real.split(
            [self.num_support, real.shape[-4] - self.num_support], dim=-4)
        res = inner.adapt(
            support, rand['inner'], rates=rates, create_graph=cg, mode=mode)
        gen = {n: res.params[n] for n in (G, E) if n in res.params}
        out = rand['outer']

        def outer_d(gen: Dict[str, TensorDict], d: TensorDict,
                    buffers: Dict[str, TensorDict], support: Tensor,
                    query: Tensor, z: Tensor, alpha: Tensor) -> Tensor:
            fake, c = inner.fake(gen, buffers, support, z)
            return inner.d_objective(mode, d, buffers, query, fake, alpha, c)

        loss_d = mode.map(outer_d, gen, res.params[D], res.buffers, support,
                          query, out['z_d'], out['alpha'])
        d_for_g, inner_d = res, res.d_losses
        if self.separate_disc_adaptation:
            d_for_g = inner.adapt(
                query,
                rand['query_inner'],
                rates=rates,
                create_graph=cg,
                mode=mode)
            inner_d = torch.cat([inner_d, d_for_g.d_losses], -1)

        def outer_g(gen: Dict[str, TensorDict], buffers: Dict[str, TensorDict],
                    d: TensorDict, db: TensorDict, support: Tensor,
                    query: Tensor, noise: Dict[str, Tensor]) -> Tensor:
            return inner.g_objective(gen, {
                **buffers, D: db
            }, d, support, query, noise)

        noise = {k: out[k] for k in ('z_g', 'z_g2') if k in out}
        loss_g = mode.map(outer_g, gen, res.buffers, d_for_g.params[D],
                          d_for_g.buffers[D], support, query, noise)
        return TaskOutput({
            'outer_d_loss': loss_d,
            'outer_g_loss': loss_g,
            'inner_d_loss': inner_d,
            'inner_g_loss': res.g_losses
        })

    def meta_gradients(self, inner: InnerLoop, tasks: Tensor,
                       rand: Dict[str, Any]) -> MetaResult:
        """See :meth:`MetaAlgorithm.meta_gradients`.

        Raises:
            DerivativeOrderError: in second order, when a module cannot be
                differentiated as often as needed (names it, the order and
                the fixes; see :mod:`.double_backward`).
        """
        try:
            return super().meta_gradients(inner, tasks, rand)
        except RuntimeError as err:
            if self.first_order:
                raise
            raise second_order_error(inner, tasks, err) from err
