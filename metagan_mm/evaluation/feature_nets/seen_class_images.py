"""Images of the meta-training classes ONLY, for the domain feature network.

The feature network of the few-shot metrics must never see the unseen
(evaluation) classes, so the class data set is always built with
``split_part='train'``, whatever its config says.
"""
import copy
from typing import Any, Dict, List, Tuple

import numpy as np
import torch
from mmengine.logging import print_log
from torch.utils.data import Dataset

from metagan_mm.registry import DATASETS

#: The parts of :class:`SeenClassImageDataset`.
IMAGE_PARTS = ('train', 'heldout')


def class_dataset_cfg(dataset_cfg: Dict[str, Any]) -> Dict[str, Any]:
    """The class data set config with ``split_part='train'`` forced.

    An ``EpisodicDataset`` config is unwrapped to its ``dataset``.

    Args:
        dataset_cfg (dict): A class data set config (or an episodic one).

    Returns:
        dict: A copy whose ``split_part`` is ``'train'``.
    """
    cfg = copy.deepcopy(dict(dataset_cfg))
    if cfg.get('type') == 'EpisodicDataset':
        cfg = copy.deepcopy(dict(cfg['dataset']))
    if cfg.get('split_part', 'train') != 'train':
        print_log(
            f'train_feature_extractor: split_part {cfg["split_part"]!r} '
            "replaced by 'train': the feature network may only see "
            'meta-training classes',
            logger='current',
            level=30)
    cfg['split_part'] = 'train'
    return cfg


def build_train_dataset(dataset_cfg: Dict[str, Any],
                        allow_no_split: bool = False) -> Any:
    """Build the meta-training part of a class data set.

    Args:
        dataset_cfg (dict): Class (or episodic) data set config.
        allow_no_split (bool): Accept a data set without a class split (all
            its classes are then meta-training classes).

    Returns:
        ClassImageDataset: The data set, ``split_part == 'train'``.
    """
    import metagan_mm.datasets  # noqa: F401  (registers the data sets)
    cfg = class_dataset_cfg(dataset_cfg)
    if cfg.get('split') is None and not allow_no_split:
        raise ValueError(
            'train_feature_extractor: the class data set has no class split, '
            'so seen and unseen classes cannot be told apart and the feature '
            'network could see the evaluation classes. Fix: give the data '
            'set a split (docs/user_guides/data.md, "Class splits"), or pass '
            'allow_no_split=True (--allow-no-split) if it holds '
            'meta-training classes only.')
    dataset = DATASETS.build(cfg)
    if getattr(dataset, 'split_part', None) != 'train':
        raise RuntimeError('train_feature_extractor: the data set was not '
                           "built with split_part='train'")
    return dataset


def heldout_indices(class_to_indices: List[List[int]], fraction: float,
                    seed: int) -> List[int]:
    """Data-set indices held out from every class, chosen by ``seed``.

    Args:
        class_to_indices (List[List[int]]): Data-set indices per class.
        fraction (float): Fraction held out per class: at least one image
            of every class with two or more images when > 0, never all.
        seed (int): Seed of the choice.

    Returns:
        List[int]: The held-out indices, sorted.
    """
    rng = np.random.default_rng([seed, 7])
    out = []
    for members in class_to_indices:
        members = np.asarray(members)[rng.permutation(len(members))]
        n_out = 0
        if fraction > 0 and len(members) >= 2:
            n_out = min(
                len(members) - 1, max(1, int(round(fraction * len(members)))))
        out.extend(int(i) for i in members[:n_out])
    return sorted(out)


@DATASETS.register_module()
class SeenClassImageDataset(Dataset):
    """Labelled images of the meta-training classes of a class data set.

    Builds the class data set with ``split_part='train'`` (the unseen
    classes are never loaded), holds out ``heldout_fraction`` of every
    class's images (seeded) and loads the images of ``part`` once, through
    the data set's own pipeline, into memory. Items are
    ``dict(inputs=Tensor[C, H, W], data_samples=Tensor[] label)``, batched
    by mmengine's ``default_collate``; images stay as the pipeline made
    them (uint8 for the shipped data sets) for the model's data
    preprocessor to normalise, as the meta-GAN's does.

    Args:
        dataset (dict): Class data set config (an ``EpisodicDataset``
            config is unwrapped), e.g. a config's
            ``train_dataloader.dataset.dataset``.
        part (str): ``'train'`` or ``'heldout'``. Defaults to ``'train'``.
        heldout_fraction (float): Held-out fraction of each class's images,
            in ``[0, 1)``. Defaults to 0.2.
        seed (int): Seed of the hold-out choice. Defaults to 0.
        allow_no_split (bool): Accept a class data set without a class
            split (see :func:`build_train_dataset`). Defaults to False.
    """

    def __init__(self,
                 dataset: Dict[str, Any],
                 part: str = 'train',
                 heldout_fraction: float = 0.2,
                 seed: int = 0,
                 allow_no_split: bool = False) -> None:
        if part not in IMAGE_PARTS:
            raise ValueError(f'SeenClassImageDataset: part must be one of '
                             f'{IMAGE_PARTS}, got {part!r}')
        if not 0 <= heldout_fraction < 1:
            raise ValueError('SeenClassImageDataset: heldout_fraction must '
                             f'be in [0, 1), got {heldout_fraction}')
        self.part = part
        self.class_dataset = build_train_dataset(dataset, allow_no_split)
        heldout = heldout_indices(self.class_dataset.class_to_indices,
                                  heldout_fraction, seed)
        if part == 'heldout':
            self.indices = heldout
        else:
            skip = set(heldout)
            self.indices = [
                i for members in self.class_dataset.class_to_indices
                for i in members if i not in skip
            ]
        self.images, self.labels = self._load(self.indices)

    def _load(self, indices: List[int]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Images ``[N, C, H, W]`` and labels ``[N]`` of ``indices``."""
        from metagan_mm.datasets.episodic_dataset import _to_chw_tensor
        label_of = {
            i: label
            for label, members in enumerate(
                self.class_dataset.class_to_indices)
            for i in members
        }
        images = [
            _to_chw_tensor(self.class_dataset.prepare_data(i))[0]
            for i in indices
        ]
        shapes = sorted({tuple(t.shape) for t in images})
        if len(shapes) > 1:
            raise ValueError('SeenClassImageDataset: images differ in shape '
                             f'{shapes[:4]}; add a Resize to the pipeline')
        if not images:  # an empty held-out part
            return torch.empty(0), torch.empty(0, dtype=torch.long)
        return torch.stack(images), torch.tensor(
            [label_of[i] for i in indices], dtype=torch.long)

    @property
    def class_names(self) -> List[str]:
        """Names of the meta-training classes; index = label."""
        return list(self.class_dataset.class_names)

    @property
    def num_classes(self) -> int:
        """Number of meta-training classes."""
        return self.class_dataset.num_classes

    @property
    def metainfo(self) -> Dict[str, Any]:
        """``classes`` (the class names), as mmengine data sets have."""
        return dict(classes=tuple(self.class_names))

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx: int) -> Dict[str, torch.Tensor]:
        return dict(inputs=self.images[idx], data_samples=self.labels[idx])
