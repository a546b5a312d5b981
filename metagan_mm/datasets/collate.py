"""``episodic_collate``: batch tasks from :class:`EpisodicDataset`."""
from typing import Any, Dict, List, Sequence

import torch
import torch.nn.functional as F

from metagan_mm.registry import FUNCTIONS
from .errors import DataConfigError


def _stack(key: str, tensors: List[torch.Tensor], samples: List[Any],
           pad: bool) -> Any:
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) == 1:
        return torch.stack(tensors)
    inner = {s[1:] for s in shapes}
    if len(inner) != 1:
        raise DataConfigError(
            f'episodic_collate: {key!r} images differ in shape '
            f'{sorted(shapes)}. Fix: Resize all images to one size in the '
            'pipeline.')
    if not pad:
        return tensors
    longest = max(t.shape[0] for t in tensors)
    padded = []
    for t, sample in zip(tensors, samples):
        if sample is not None and hasattr(
                sample, 'set_metainfo') and (f'num_{key}'
                                             not in sample.metainfo):
            sample.set_metainfo({f'num_{key}': int(t.shape[0])})
        extra = longest - t.shape[0]
        padded.append(
            F.pad(t, (0, 0) * (t.ndim - 1) + (0, extra)) if extra else t)
    return torch.stack(padded)


@FUNCTIONS.register_module(name='episodic_collate')
def episodic_collate(data_batch: Sequence[dict],
                     pad_reference: bool = True) -> Dict[str, Any]:
    """Collate tasks into a meta-batch.

    Training tasks give ``inputs`` ``[T, k_shot + num_query, C, H, W]``;
    evaluation items give ``inputs`` ``{'support': [T, K, C, H, W],
    'reference': [T, R_max, C, H, W]}``, where classes with fewer reference
    images are zero-padded at the end (their ``num_reference`` metainfo
    gives the real count). With ``pad_reference=False`` unequal
    ``reference`` sets stay a list of ``[R_i, C, H, W]`` tensors (mmagic's
    ``DataPreprocessor`` cannot normalise such a list). ``data_samples`` is
    the list of per-task ``DataSample``.

    Use in a config: ``collate_fn=dict(type='episodic_collate')``.

    Args:
        data_batch (Sequence[dict]): Items of :class:`EpisodicDataset`.
        pad_reference (bool): Zero-pad unequal sets (see above).

    Returns:
        dict: ``{'inputs': ..., 'data_samples': [...]}``.
    """
    if not data_batch:
        raise DataConfigError('episodic_collate: empty batch')
    samples = [item.get('data_samples') for item in data_batch]
    first = data_batch[0]['inputs']
    if isinstance(first, torch.Tensor):
        inputs: Any = _stack(
            'inputs', [d['inputs'] for d in data_batch], samples, pad=False)
        if isinstance(inputs, list):
            raise DataConfigError(
                'episodic_collate: tasks in a batch have different numbers '
                'of images; use one k_shot/num_query per data set.')
    elif isinstance(first, dict):
        inputs = {
            key:
            _stack(
                key, [d['inputs'][key] for d in data_batch],
                samples,
                pad=pad_reference)
            for key in first
        }
    else:
        raise DataConfigError(
            'episodic_collate: expected EpisodicDataset items, got inputs of '
            f'type {type(first).__name__}')
    return dict(inputs=inputs, data_samples=samples)
