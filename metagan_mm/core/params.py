"""Fast-weight and pytree helpers around :func:`torch.func.functional_call`
(torch only)."""
from collections import OrderedDict
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_leaves, tree_map

TensorDict = Dict[str, Tensor]


def meta_params(module: nn.Module) -> TensorDict:
    """Return the module's parameters as an ordered ``name -> tensor`` dict."""
    return OrderedDict(module.named_parameters())


def meta_buffers(module: nn.Module, clone: bool = False) -> TensorDict:
    """Return the module's buffers as an ordered ``name -> tensor`` dict.

    Args:
        module: The network.
        clone: If True, return independent copies, so that in-place updates
            (e.g. BatchNorm running statistics) leave the module untouched.
    """
    return OrderedDict(
        (k, v.clone() if clone else v) for k, v in module.named_buffers())


def detach_dict(tensors: Mapping[str, Tensor]) -> TensorDict:
    """Return detached views of every tensor in ``tensors``."""
    return OrderedDict((k, v.detach()) for k, v in tensors.items())


def functional_call(module: nn.Module,
                    params: Mapping[str, Tensor],
                    buffers: Optional[Mapping[str, Tensor]],
                    args: Union[Tensor, Tuple[Any, ...]],
                    kwargs: Optional[Dict[str, Any]] = None) -> Any:
    """Run ``module`` with the given parameters and buffers substituted.

    Thin wrapper around :func:`torch.func.functional_call`; the module's own
    tensors are never modified (buffers updated in place by the forward pass,
    e.g. BatchNorm running statistics, are the ones passed in ``buffers``).

    Args:
        module: The network whose forward is used.
        params: ``name -> tensor`` fast weights.
        buffers: ``name -> tensor`` buffers, or None to use the module's.
        args: Positional input(s) of the forward.
        kwargs: Keyword inputs of the forward.
    """
    tensors: Dict[str, Tensor] = dict(params)
    if buffers is not None:
        tensors.update(buffers)
    if not isinstance(args, tuple):
        args = (args, )
    return torch.func.functional_call(module, tensors, args, kwargs or {})


def index_dict(tensors: Mapping[str, Any], index: Any) -> Dict[str, Any]:
    """Index every tensor of a (possibly nested) dict along dim 0."""
    return {
        k: index_dict(v, index) if isinstance(v, Mapping) else v[index]
        for k, v in tensors.items()
    }


def stack_tree(items: Sequence[Any]) -> Any:
    """Stack a list of same-structured pytrees along a new leading dim."""
    return tree_map(lambda *xs: torch.stack(xs), items[0], *items[1:])


def finite(tree: Any) -> Tensor:
    """Per-task flags ``[T]``: every floating tensor of task ``t`` is finite.

    One pass per tensor: a task's tensor is finite when its sum (in at least
    fp32) is, as a NaN or infinity makes the sum NaN or infinite. A sum past
    fp32's range (weights near 1e31 and beyond) also counts as not finite.

    Args:
        tree: A pytree of tensors that all have a leading task dim ``T``.
    """
    flags = [
        v.detach().reshape(v.shape[0], -1).sum(
            1, dtype=torch.promote_types(v.dtype, torch.float32)).isfinite()
        for v in tree_leaves(tree)
        if isinstance(v, Tensor) and v.is_floating_point()
    ]
    if not flags:
        raise ValueError('finite() got no floating point tensors')
    return torch.stack(flags).all(0)


def grads_or_zeros(loss: Tensor,
                   inputs: Sequence[Tensor],
                   create_graph: bool = False,
                   retain_graph: Optional[bool] = None) -> Tuple[Tensor, ...]:
    """``torch.autograd.grad`` with zeros for inputs the loss does not use."""
    grads = torch.autograd.grad(
        loss,
        list(inputs),
        create_graph=create_graph,
        retain_graph=retain_graph,
        allow_unused=True)
    return tuple(
        torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads))
