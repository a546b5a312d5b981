"""MAML for GANs (first/second order) with the DAWSON option (torch only)."""
from typing import Any, Dict, Optional

import torch

from ..inner_loop import InnerLoop, Rates
from ..objective import D, E, G
from ..task import Task
from .base import (MetaAlgorithm, Targets, TaskLosses, TaskOutput,
                   register_algorithm)


@register_algorithm
class MAML(MetaAlgorithm):
    """MAML-GAN meta-gradients.

    Per task, G and D are adapted on the support set (first ``num_support``
    images) by the inner loop; the outer losses are the objective's, on the
    query set (remaining images) with the adapted weights:

    * D outer loss: ``d_loss(D_t; query, G_t(z))`` -> gradient for D's meta
      weights (and D's rates, if learned);
    * G outer loss: ``g_loss(D'(G_t(z)))`` -> gradient for G's meta weights
      (and G's rates), where ``D' = D_t`` or, with
      ``separate_disc_adaptation=True`` (DAWSON), a discriminator adapted
      separately on the *query* set (its own inner loop from the meta
      weights, with its own pre-drawn randomness; that loop's G is dropped).

    A conditioned model embeds the support set. ``first_order=True`` treats
    inner gradients as constants (FOMAML); otherwise gradients flow through
    all inner steps (needs double backward).

    Args:
        num_support: ``K``, support images per task (>= 1).
        first_order: Drop second-order terms.
        separate_disc_adaptation: DAWSON-style D for G's outer loss.
        adapt_without_label: Adapt on the support set without the task's
            label, as few-shot generation on an unseen class must (it has
            no seen-class label); the outer losses keep it. Matters for
            objectives with class terms (fusion).
    """

    def __init__(self,
                 num_support: int,
                 first_order: bool = False,
                 separate_disc_adaptation: bool = False,
                 adapt_without_label: bool = False) -> None:
        if not isinstance(num_support, int) or num_support < 1:
            raise ValueError(
                f'num_support={num_support!r} must be an int >= 1.')
        self.num_support = num_support
        self.first_order = bool(first_order)
        self.separate_disc_adaptation = bool(separate_disc_adaptation)
        self.adapt_without_label = bool(adapt_without_label)

    @property
    def second_order(self) -> bool:
        """Differentiate through the inner steps."""
        return not self.first_order

    def rates(self) -> Optional[Rates]:
        """Inner learning rates of the task adaptation (None: the config's)."""
        return None

    def randomness(self, inner: InnerLoop, num_images: int,
                   generator: Optional[torch.Generator]) -> Dict[str, Any]:
        """Inner (support), outer (``Q`` query samples) and, for DAWSON,
        query-inner randomness of one task."""
        q = num_images - self.num_support
        if q < 1:
            raise ValueError(f'tasks have {num_images} images but '
                             f'num_support={self.num_support}: at least one '
                             'query image is needed (N > num_support).')
        rand = {
            'inner':
            inner.randomness(self.num_support, generator),
            'outer':
            inner.objective.sample(
                inner.modules,
                num=q,
                d_shape=(),
                g_shape=(),
                generator=generator)
        }
        if self.separate_disc_adaptation:
            rand['query_inner'] = inner.randomness(q, generator)
        return rand

    def targets(self, inner: InnerLoop) -> Targets:
        """D's outer loss trains D, G's outer loss trains G (and E)."""
        params = inner.meta_params()
        return Targets(
            d={D: params[D]}, g={n: params[n]
                                 for n in (G, E) if n in params})

    def task(self, inner: InnerLoop, task: Task,
             rand: Dict[str, Any]) -> TaskOutput:
        """Adapt on the support set, evaluate the outer losses on the query
        set."""
        support, query = task.split(self.num_support)
        if self.adapt_without_label:
            support, query = Task(support.images), Task(query.images)
        rates, cg = self.rates(), self.second_order
        res = inner.adapt(support, rand['inner'], rates=rates, create_graph=cg)
        data = dict(real=query.images, shots=support.images, label=task.label)
        outer_d = inner.objective.d_loss(
            inner.nets(res.params, res.buffers),
            rand=rand['outer']['d'],
            **data)
        d_for_g, inner_d = res, res.d_losses
        if self.separate_disc_adaptation:
            d_for_g = inner.adapt(
                query, rand['query_inner'], rates=rates, create_graph=cg)
            inner_d = torch.cat([inner_d, d_for_g.d_losses])
        nets = inner.nets({
            **res.params, D: d_for_g.params[D]
        }, {
            **res.buffers, D: d_for_g.buffers[D]
        })
        outer_g = inner.objective.g_loss(nets, rand=rand['outer']['g'], **data)
        return TaskOutput(
            TaskLosses(
                inner_d=inner_d,
                inner_g=res.g_losses,
                outer_d=outer_d,
                outer_g=outer_g))
