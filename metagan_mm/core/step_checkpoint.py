"""Gradient checkpointing of second-order inner steps (torch only).

:func:`torch.utils.checkpoint.checkpoint` does not help here: an inner step
calls ``torch.autograd.grad`` during its own forward pass, which unpacks the
tensors the checkpoint has just dropped and makes it recompute and keep them
(measured: more memory than no checkpointing). :class:`_CheckpointedStep`
instead runs a step's forward and drops its graph at once (outputs
detached), and in the outer backward pass re-runs it from the saved inputs
and returns its vector-Jacobian product (second order, since the step's inner
gradients are taken with ``create_graph=True``). Both runs use the same
kernels, so the values equal those of the uncheckpointed step. Between
steps only the step inputs (fast weights, Adam moments, learned rates) are
kept.
"""
from typing import Any, Callable, List, Sequence, Tuple

import torch
from torch import Tensor
from torch.utils import _pytree as pytree

# ``run(leaves) -> list of output tensors``
StepFn = Callable[[List[Tensor]], List[Tensor]]


class _CheckpointedStep(torch.autograd.Function):
    """Forward without a graph; backward recomputes with one (see module)."""

    @staticmethod
    def forward(ctx: Any, run: StepFn, meta: List[Any], *leaves:
                Tensor) -> Tuple[Tensor, ...]:
        ctx.run = run
        ctx.save_for_backward(*leaves)
        # random layers (dropout) must draw the same numbers when re-run
        ctx.devices = sorted(
            {t.device.index or 0
             for t in leaves if t.device.type == 'cuda'})
        ctx.rng = (torch.get_rng_state(),
                   [torch.cuda.get_rng_state(i) for i in ctx.devices])
        with torch.enable_grad():  # the same kernels as the recomputation
            outs = [o.detach() for o in run(list(leaves))]
        ctx.num_diff_out = meta[1]  # known after the first run
        ctx.mark_non_differentiable(*outs[ctx.num_diff_out:])
        return tuple(outs)

    @staticmethod
    def backward(ctx: Any, *grad_outs: Tensor) -> Tuple[Any, ...]:
        needs = ctx.needs_input_grad[2:]
        leaves = [
            t.detach().requires_grad_(n)
            for t, n in zip(ctx.saved_tensors, needs)
        ]
        with torch.random.fork_rng(devices=ctx.devices), torch.enable_grad():
            torch.set_rng_state(ctx.rng[0])
            for index, state in zip(ctx.devices, ctx.rng[1]):
                torch.cuda.set_rng_state(state, index)
            outs = ctx.run(leaves)[:ctx.num_diff_out]
        pairs = [(o, g) for o, g in zip(outs, grad_outs)
                 if g is not None and o.requires_grad]
        wrt = [t for t in leaves if t.requires_grad]
        grads = iter(
            torch.autograd.grad([o for o, _ in pairs],
                                wrt, [g for _, g in pairs],
                                allow_unused=True
                                ) if pairs and wrt else [None] * len(wrt))
        return (None, None) + tuple(
            next(grads) if t.requires_grad else None for t in leaves)


def checkpointed_call(fn: Callable[..., Any], tree: Any,
                      num_diff_leaves: Callable[[Any], int]) -> Any:
    """Run ``fn(tree)`` as one checkpointed autograd node.

    Args:
        fn: ``fn(tree) -> out_tree`` (tensor leaves only); deterministic, as
            it runs twice (forward, and again in the backward pass).
        tree: Pytree (dicts/tuples/lists) whose Tensor leaves are the inputs
            to differentiate; other leaves are passed through unchanged.
        num_diff_leaves: ``out_tree -> n``: the first ``n`` tensor leaves of
            the flattened output are differentiable, the rest (e.g. detached
            losses) are not.

    Returns:
        ``fn``'s output tree, whose differentiable tensors back-propagate to
        the tensor leaves of ``tree`` through a recomputation.
    """
    leaves, spec = pytree.tree_flatten(tree)
    is_t = [isinstance(x, Tensor) for x in leaves]
    tensors = [x for x, t in zip(leaves, is_t) if t]
    out_spec: List[Any] = []

    def run(new: Sequence[Tensor]) -> List[Tensor]:
        it = iter(new)
        args = pytree.tree_unflatten(
            [next(it) if t else x for x, t in zip(leaves, is_t)], spec)
        out_leaves, o_spec = pytree.tree_flatten(fn(args))
        if not out_spec:
            out_spec.append(o_spec)
            out_spec.append(
                num_diff_leaves(pytree.tree_unflatten(out_leaves, o_spec)))
        return out_leaves

    out = _CheckpointedStep.apply(run, out_spec, *tensors)
    return pytree.tree_unflatten(list(out), out_spec[0])
