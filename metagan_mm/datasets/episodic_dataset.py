"""Few-shot tasks (episodes) drawn from a class-structured data set."""
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.logging import print_log
from torch.utils.data import Dataset

from metagan_mm.registry import DATASETS
from .class_image_dataset import ClassImageDataset
from .errors import DataConfigError, TooFewImagesError

#: Metainfo keys copied from the per-image data samples of mmagic's
#: ``PackInputs`` so that mmagic's ``DataPreprocessor`` sees the colour type.
_COLOR_KEYS = ('img_channel_order', 'img_color_type')
#: Distinguishes the evaluation stream of random numbers from training's.
_EVAL_STREAM = 0x5EED


def _to_chw_tensor(result: Any) -> Tuple[torch.Tensor, dict]:
    """Image tensor ``[C, H, W]`` and colour metainfo of a pipeline result."""
    meta: dict = {}
    if isinstance(result, dict) and 'inputs' in result:
        inputs = result['inputs']
        sample = result.get('data_samples')
        if sample is not None and hasattr(sample, 'metainfo'):
            meta = {
                k: sample.metainfo[k]
                for k in _COLOR_KEYS if k in sample.metainfo
            }
        if isinstance(inputs, dict):
            inputs = inputs.get('img', next(iter(inputs.values())))
    elif isinstance(result, dict) and 'img' in result:
        inputs = result['img']  # no PackInputs: HxWxC ndarray
        meta = {k: result[k] for k in _COLOR_KEYS if k in result}
    else:
        raise DataConfigError(
            'EpisodicDataset: the class data set pipeline must end with '
            "PackInputs (or leave 'img' in the results), got "
            f'{type(result).__name__}')
    if isinstance(inputs, np.ndarray):
        if inputs.ndim == 2:
            inputs = inputs[..., None]
        inputs = torch.from_numpy(
            np.ascontiguousarray(inputs.transpose(2, 0, 1)))
    if not isinstance(inputs, torch.Tensor) or inputs.ndim != 3:
        raise DataConfigError(
            'EpisodicDataset: each image must become a [C, H, W] tensor, '
            f'got {getattr(inputs, "shape", type(inputs))}')
    return inputs, meta


@DATASETS.register_module()
class EpisodicDataset(Dataset):
    """Few-shot generation tasks over a class-structured data set.

    ``mode='train'``: item ``i`` (any ``i >= 0``) is a task drawn from
    ``np.random.default_rng([seed, i])``: one class (uniform over the usable
    classes), then ``k_shot + num_query`` distinct images of it (support
    first, then query)::

        {'inputs': Tensor[k_shot + num_query, C, H, W],   # as packed
         'data_samples': DataSample(metainfo=dict(
             task_index, class_idx, class_name, k_shot, num_query,
             image_indices, support_indices, query_indices, ...))}

    ``len()`` is ``num_tasks`` (default 10**7): a nominal length only, for
    code that asks; :class:`EpisodicSampler` is infinite and every index
    gives a valid task. ``class_idx`` is the class's ``gt_label`` in the
    wrapped data set and ``image_indices`` its data-set indices.

    ``mode='eval'`` (LoFGAN protocol): one item per usable class, in class
    order. A fixed conditioning set of ``k_shot`` images is drawn from
    ``default_rng([seed, 0x5EED, class_idx])``; the class's other images
    (at most ``num_reference``) are the real reference set::

        {'inputs': {'support': Tensor[k_shot, C, H, W],
                    'reference': Tensor[R, C, H, W]},
         'data_samples': DataSample(metainfo=dict(class_idx, class_name,
             k_shot, num_reference=R, support_indices, reference_indices))}

    ``R`` may differ between classes; :func:`episodic_collate` then pads
    ``reference`` with zeros to the batch maximum (``num_reference`` in the
    metainfo says how many are real) or, with ``pad_reference=False``,
    keeps a list.

    Args:
        dataset (dict | ClassImageDataset): The class data set (config).
        k_shot (int): Support (conditioning) images per task.
        num_query (int): Query images per training task.
        seed (int): Seed of the task stream (and of the eval support sets).
        mode (str): ``'train'`` or ``'eval'``.
        num_tasks (int): Nominal length in train mode.
        num_reference (int, optional): Cap on eval reference images.
        drop_small_classes (bool): Skip classes with fewer images than a
            task needs (``k_shot + num_query`` in train mode, ``k_shot + 1``
            in eval mode) instead of raising :class:`TooFewImagesError`.
        lazy_init (bool): Defer building the class data set's index.
    """

    def __init__(self,
                 dataset: Union[dict, ClassImageDataset],
                 k_shot: int = 4,
                 num_query: int = 4,
                 seed: int = 0,
                 mode: str = 'train',
                 num_tasks: int = 10_000_000,
                 num_reference: Optional[int] = None,
                 drop_small_classes: bool = False,
                 lazy_init: bool = False) -> None:
        if mode not in ('train', 'eval'):
            raise DataConfigError(
                f"EpisodicDataset: mode must be 'train' or 'eval', got "
                f'{mode!r}')
        if int(k_shot) < 1 or int(num_query) < 0:
            raise DataConfigError(
                'EpisodicDataset: need k_shot >= 1 and num_query >= 0, got '
                f'k_shot={k_shot}, num_query={num_query}')
        if mode == 'train' and int(k_shot) + int(num_query) < 1:
            raise DataConfigError('EpisodicDataset: empty tasks')
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if not hasattr(dataset, 'class_to_indices'):
            raise DataConfigError(
                'EpisodicDataset: dataset must be a class-structured data '
                'set exposing class_to_indices (e.g. OmniglotDataset), got '
                f'{type(dataset).__name__}')
        self.dataset = dataset
        self.k_shot = int(k_shot)
        self.num_query = int(num_query)
        self.seed = int(seed)
        self.mode = mode
        self.num_tasks = int(num_tasks)
        self.num_reference = num_reference
        self.drop_small_classes = drop_small_classes
        self._classes: Optional[List[int]] = None
        if not lazy_init:
            self.full_init()

    # ------------------------------------------------------------------
    @property
    def images_needed(self) -> int:
        """Images a class needs: ``k_shot + num_query`` (train) or
        ``k_shot + 1`` (eval)."""
        if self.mode == 'train':
            return self.k_shot + self.num_query
        return self.k_shot + 1

    def full_init(self) -> None:
        """Index the class data set and check class sizes."""
        if self._classes is not None:
            return
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()
        need = self.images_needed
        sizes = [len(m) for m in self.dataset.class_to_indices]
        names = self.dataset.class_names
        small = [(c, n) for c, n in enumerate(sizes) if n < need]
        what = (f'k_shot={self.k_shot} + num_query={self.num_query}'
                if self.mode == 'train' else
                f'k_shot={self.k_shot} + at least 1 reference image')
        if small and not self.drop_small_classes:
            listed = ', '.join(f'{names[c]!r} has {n}' for c, n in small[:10])
            more = f' (and {len(small) - 10} more)' if len(small) > 10 else ''
            raise TooFewImagesError(
                f'EpisodicDataset: {len(small)} class(es) have fewer images '
                f'than a task needs ({need} = {what}): {listed}{more}. '
                'Fix: set drop_small_classes=True to skip them, or lower '
                'k_shot/num_query.')
        self._classes = [c for c, n in enumerate(sizes) if n >= need]
        if small:
            print_log(
                f'EpisodicDataset: dropped {len(small)} class(es) with fewer '
                f'than {need} images: {[names[c] for c, _ in small[:10]]}',
                logger='current',
                level=30)
        if not self._classes:
            raise TooFewImagesError(
                f'EpisodicDataset: no class has the {need} images a task '
                f'needs ({what}); largest class has {max(sizes)}. Fix: lower '
                'k_shot/num_query.')

    @property
    def classes(self) -> List[int]:
        """Usable class indices (``gt_label`` of the class data set)."""
        self.full_init()
        return self._classes

    @property
    def metainfo(self) -> dict:
        """The class data set's metainfo (``classes`` etc.)."""
        return dict(getattr(self.dataset, 'metainfo', {}))

    def __len__(self) -> int:
        if self.mode == 'train':
            return self.num_tasks
        return len(self.classes)

    # ------------------------------------------------------------------
    def get_task(self, index: int) -> Dict[str, Any]:
        """The class and image indices of a task, without loading images.

        Args:
            index (int): Task index (train) or class position (eval).

        Returns:
            dict: ``class_idx`` and ``support_indices`` plus
            ``query_indices`` (train) or ``reference_indices`` (eval).
        """
        classes = self.classes
        index = int(index)
        if index < 0:
            raise IndexError(f'EpisodicDataset: negative index {index}')
        members = self.dataset.class_to_indices
        if self.mode == 'train':
            rng = np.random.default_rng([self.seed, index])
            cls = classes[int(rng.integers(len(classes)))]
            pos = rng.choice(
                len(members[cls]), self.images_needed, replace=False)
            idx = [members[cls][p] for p in pos]
            return dict(
                class_idx=cls,
                support_indices=idx[:self.k_shot],
                query_indices=idx[self.k_shot:])
        if index >= len(classes):
            raise IndexError(f'EpisodicDataset (eval): index {index} out of '
                             f'range for {len(classes)} classes')
        cls = classes[index]
        rng = np.random.default_rng([self.seed, _EVAL_STREAM, cls])
        order = rng.permutation(len(members[cls]))
        support = [members[cls][p] for p in order[:self.k_shot]]
        rest = sorted(int(p) for p in order[self.k_shot:])
        if self.num_reference is not None:
            rest = rest[:int(self.num_reference)]
        return dict(
            class_idx=cls,
            support_indices=support,
            reference_indices=[members[cls][p] for p in rest])

    def _load(self, indices: List[int]) -> Tuple[torch.Tensor, dict]:
        tensors, meta = [], {}
        for i in indices:
            result = self.dataset.prepare_data(i)
            if result is None:
                raise DataConfigError(
                    f'EpisodicDataset: the pipeline returned None for image '
                    f'{i}; episodic pipelines must not drop images.')
            tensor, meta = _to_chw_tensor(result)
            tensors.append(tensor)
        shapes = {tuple(t.shape) for t in tensors}
        if len(shapes) > 1:
            raise DataConfigError(
                f'EpisodicDataset: images of one task have different shapes '
                f'{sorted(shapes)}. Fix: add a Resize to the pipeline.')
        return torch.stack(tensors), meta

    def __getitem__(self, index: int) -> dict:
        from mmagic.structures import DataSample
        task = self.get_task(index)
        cls = task['class_idx']
        meta = dict(
            task_index=int(index),
            class_idx=cls,
            class_name=self.dataset.class_names[cls],
            k_shot=self.k_shot,
            support_indices=task['support_indices'])
        if self.mode == 'train':
            image_indices = task['support_indices'] + task['query_indices']
            inputs, color = self._load(image_indices)
            meta.update(
                num_query=self.num_query,
                query_indices=task['query_indices'],
                image_indices=image_indices,
                **color)
            return dict(inputs=inputs, data_samples=DataSample(metainfo=meta))
        support, color = self._load(task['support_indices'])
        reference, _ = self._load(task['reference_indices'])
        meta.update(
            num_reference=len(task['reference_indices']),
            reference_indices=task['reference_indices'],
            **color)
        return dict(
            inputs=dict(support=support, reference=reference),
            data_samples=DataSample(metainfo=meta))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(mode={self.mode!r}, '
                f'k_shot={self.k_shot}, num_query={self.num_query}, '
                f'seed={self.seed}, dataset={type(self.dataset).__name__})')
