"""Fast-weight helpers around :func:`torch.func.functional_call` (torch only)."""
from collections import OrderedDict
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import torch
from torch import Tensor, nn

TensorDict = Dict[str, Tensor]


def meta_params(module: nn.Module, detach: bool = False) -> 'OrderedDict[str, Tensor]':
    """Return the module's parameters as an ordered ``name -> tensor`` dict.

    Args:
        module: The network.
        detach: If True, return detached views (no autograd link to the
            module's parameters).

    Returns:
        OrderedDict of the module's (meta) parameters.
    """
    return OrderedDict((k, v.detach() if detach else v)
                       for k, v in module.named_parameters())


def meta_buffers(module: nn.Module, clone: bool = False) -> 'OrderedDict[str, Tensor]':
    """Return the module's buffers as an ordered ``name -> tensor`` dict.

    Args:
        module: The network.
        clone: If True, return independent copies, so that in-place updates
            (e.g. BatchNorm running statistics) leave the module untouched.

    Returns:
        OrderedDict of the module's buffers.
    """
    return OrderedDict((k, v.clone() if clone else v)
                       for k, v in module.named_buffers())


def clone_buffers(buffers: Mapping[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """Return independent copies of ``buffers``."""
    return OrderedDict((k, v.clone()) for k, v in buffers.items())


def detach_dict(tensors: Mapping[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """Return detached views of every tensor in ``tensors``."""
    return OrderedDict((k, v.detach()) for k, v in tensors.items())


def functional_call(module: nn.Module,
                    params: Mapping[str, Tensor],
                    buffers: Optional[Mapping[str, Tensor]],
                    args: Union[Tensor, Tuple[Any, ...]],
                    kwargs: Optional[Dict[str, Any]] = None) -> Any:
    """Run ``module`` with the given parameters and buffers substituted.

    Thin wrapper around :func:`torch.func.functional_call`; the module's own
    tensors are never modified (buffers updated in-place by the forward pass,
    e.g. BatchNorm running stats, are the ones passed in ``buffers``).

    Args:
        module: The network whose forward is used.
        params: ``name -> tensor`` fast weights.
        buffers: ``name -> tensor`` buffers, or None to use the module's.
        args: Positional input(s) of the forward.
        kwargs: Keyword inputs of the forward.

    Returns:
        The module's output.
    """
    tensors: Dict[str, Tensor] = dict(params)
    if buffers is not None:
        tensors.update(buffers)
    if not isinstance(args, tuple):
        args = (args, )
    return torch.func.functional_call(module, tensors, args, kwargs or {})


def stack_dicts(dicts: 'list[Mapping[str, Tensor]]') -> 'OrderedDict[str, Tensor]':
    """Stack a list of same-keyed tensor dicts along a new leading dim."""
    keys = list(dicts[0].keys())
    return OrderedDict((k, torch.stack([d[k] for d in dicts])) for k in keys)


def index_dict(tensors: Mapping[str, Any], index: Any) -> Dict[str, Any]:
    """Index every tensor of a (possibly nested) dict along dim 0."""
    out: Dict[str, Any] = {}
    for k, v in tensors.items():
        out[k] = index_dict(v, index) if isinstance(v, Mapping) else v[index]
    return out


def all_finite(tensors: Mapping[str, Tensor], batched: bool) -> Tensor:
    """Return whether every tensor is finite (per task if ``batched``).

    Args:
        tensors: ``name -> tensor``; leading dim is the task dim if batched.
        batched: Reduce per leading index instead of over everything.

    Returns:
        Bool tensor of shape ``[T]`` if batched else a 0-dim bool tensor.
    """
    flags = []
    for v in tensors.values():
        if not v.is_floating_point():
            continue
        fin = torch.isfinite(v.detach())
        flags.append(fin.reshape(fin.shape[0], -1).all(1) if batched else fin.all())
    if not flags:
        raise ValueError('all_finite got no floating point tensors')
    return torch.stack(flags).all(0)
