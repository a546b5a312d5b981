"""Helpers shared by the meta-learning algorithms (torch only)."""
from collections import OrderedDict
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

TensorDict = Dict[str, Tensor]


def check_tasks(tasks: Tensor, min_images: int = 1) -> None:
    """Raise a ValueError unless ``tasks`` is ``[T, N, C, H, W]``."""
    if not isinstance(tasks, Tensor) or tasks.dim() != 5:
        shape = tuple(tasks.shape) if isinstance(tasks, Tensor) else type(tasks)
        raise ValueError(f'tasks must be a Tensor [T, N, C, H, W], got {shape}.')
    if tasks.shape[0] < 1 or tasks.shape[1] < min_images:
        raise ValueError(f'tasks {tuple(tasks.shape)} needs T >= 1 and '
                         f'N >= {min_images} images per task.')


def zeros_like_dict(tensors: Mapping[str, Tensor]) -> TensorDict:
    """Return zero tensors shaped like ``tensors`` (detached)."""
    return OrderedDict((k, torch.zeros_like(v).detach())
                       for k, v in tensors.items())


def masked_task_mean(stacked: Mapping[str, Tensor], valid: Tensor) -> TensorDict:
    """Mean over the valid tasks of ``[T, ...]`` tensors.

    Non-floating tensors (e.g. ``num_batches_tracked``) take the first valid
    task's value.
    """
    idx = valid.nonzero().flatten()
    out = OrderedDict()
    for k, v in stacked.items():
        sel = v.detach()[idx]
        out[k] = sel.mean(0) if v.is_floating_point() else sel[0]
    return out


def loss_means(losses: Tensor, valid: Tensor) -> Tensor:
    """Mean over valid tasks of ``[T, L]`` losses (NaN if none valid)."""
    if not bool(valid.any()):
        return torch.full(losses.shape[1:], float('nan'))
    return losses.detach()[valid].mean(0)


def grads_or_zeros(loss: Tensor, inputs: Sequence[Tensor],
                   retain_graph: bool = False) -> List[Tensor]:
    """``torch.autograd.grad`` with zeros for unused inputs."""
    grads = torch.autograd.grad(loss, list(inputs), retain_graph=retain_graph,
                                allow_unused=True)
    return [torch.zeros_like(x) if g is None else g
            for x, g in zip(inputs, grads)]


def split_named(names: Iterable[str], grads: Sequence[Tensor],
                groups: Sequence[int]) -> Tuple[TensorDict, ...]:
    """Split flat grads into consecutive dicts of sizes ``groups``."""
    names, out, start = list(names), [], 0
    for size in groups:
        out.append(OrderedDict(zip(names[start:start + size],
                                   grads[start:start + size])))
        start += size
    return tuple(out)


def base_logs(num_tasks: int, valid: Tensor, batched: bool) -> Dict[str, object]:
    """Logs shared by all algorithms."""
    return {'num_tasks': num_tasks, 'num_skipped': int((~valid).sum()),
            'valid_mask': valid.detach().cpu(), 'batched': batched}


def optional_dict(d: Optional[Mapping[str, Tensor]]) -> TensorDict:
    """``dict(d)`` or an empty dict."""
    return OrderedDict(d) if d else OrderedDict()
