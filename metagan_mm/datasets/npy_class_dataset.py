"""LoFGAN / F2GAN style ``.npy`` arrays ``[classes, images, H, W, C]``."""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

import numpy as np

from metagan_mm.registry import DATASETS
from .class_image_dataset import ClassImageDataset, ClassRecord
from .class_split import SplitSpec
from .errors import DataConfigError


@DATASETS.register_module()
class NpyClassDataset(ClassImageDataset):
    """Classes stored as one array ``[classes, per_class, H, W, C]``.

    This is the format of LoFGAN/F2GAN/DAWSON (e.g.
    ``flower_c8189_s128_data_rgb.npy``). The array is memory-mapped
    (``np.load(mmap_mode='r')``) in each process, so large files are not
    read into memory; a 4-D ``[classes, per_class, H, W]`` array is treated
    as grayscale (``C=1``). Classes are named ``'00000'``, ``'00001'``, ...
    in array order, and the usual seen/unseen protocol is
    ``split=dict(first_n=N)`` (first N classes ``train``, the rest
    ``test``). Entries carry ``img`` (``HxWxC`` uint8, channel order as
    stored -- LoFGAN's RGB arrays are RGB), so the pipeline starts without a
    loading transform. The array holds uint8 ``0..255`` or floats in
    ``[0, 1]`` (LoFGAN's VGGFace array); each float image is read as
    ``round(x * 255)`` and refused if it leaves ``[0, 1]``.

    Args:
        data_root (str): The ``.npy`` file, or a folder holding ``npy_file``.
        npy_file (str, optional): File name relative to ``data_root``.
        images_per_class (int, optional): Use only the first N images of
            each class.
        **kwargs: See :class:`ClassImageDataset`.
    """

    def __init__(self,
                 data_root: str,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 npy_file: Optional[str] = None,
                 images_per_class: Optional[int] = None,
                 split: SplitSpec = None,
                 split_part: str = 'train',
                 **kwargs) -> None:
        self.npy_path = (
            osp.join(data_root, npy_file) if npy_file else data_root)
        self.images_per_class = images_per_class
        self._array: Optional[np.ndarray] = None
        super().__init__(
            data_root=data_root,
            pipeline=pipeline,
            split=split,
            split_part=split_part,
            **kwargs)

    @property
    def array(self) -> np.ndarray:
        """The memory-mapped ``[classes, per_class, H, W, C]`` array."""
        if self._array is None:
            self._check_root(
                self.npy_path, '.npy file',
                'give the path of a [classes, images, H, W, C] uint8 .npy '
                'file (docs/user_guides/data.md, "Preparing the data", '
                'LoFGAN / F2GAN arrays).')
            try:
                arr = np.load(self.npy_path, mmap_mode='r', allow_pickle=False)
            except Exception as err:
                raise DataConfigError(
                    f'NpyClassDataset: cannot read {self.npy_path!r} as a '
                    f'.npy array ({err}). Fix: save it with np.save.') from err
            if arr.ndim == 4:
                arr = arr[..., None]
            if arr.ndim != 5 or arr.shape[-1] not in (1, 3, 4):
                raise DataConfigError(
                    f'NpyClassDataset: {self.npy_path!r} has shape '
                    f'{arr.shape}; expected [classes, images_per_class, H, W,'
                    ' C] with C in (1, 3, 4) (or 4-D grayscale). Fix: '
                    'reshape/transpose the array (channels last).')
            if arr.dtype != np.uint8 and not np.issubdtype(
                    arr.dtype, np.floating):
                raise DataConfigError(
                    f'NpyClassDataset: {self.npy_path!r} has dtype '
                    f'{arr.dtype}; expected uint8 0..255 or floats in [0, 1].'
                    ' Fix: save x.astype(np.uint8) for 0..255 integers.')
            self._array = arr
        return self._array

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state['_array'] = None  # re-open the memory map in the new process
        return state

    def scan_classes(self) -> List[ClassRecord]:
        """One record per class of the array."""
        arr = self.array
        n_cls, per_class = arr.shape[:2]
        if self.images_per_class is not None:
            per_class = min(per_class, int(self.images_per_class))
        width = max(5, len(str(n_cls - 1)))
        return [(f'{c:0{width}d}', None,
                 [dict(array_index=(c, i)) for i in range(per_class)])
                for c in range(n_cls)]

    def _materialize(self, info: dict) -> dict:
        c, i = info['array_index']
        img = np.array(self.array[c, i])
        if img.dtype != np.uint8:
            if not (img.min() >= 0 and img.max() <= 1):
                raise DataConfigError(
                    f'NpyClassDataset: image {i} of class {c} in '
                    f'{self.npy_path!r} has {img.dtype} values in '
                    f'[{img.min()}, {img.max()}]; float arrays must hold '
                    '[0, 1]. Fix: save x.round().astype(np.uint8) for '
                    '0..255 floats.')
            img = (img * 255).round().astype(np.uint8)
        info['img'] = img
        return info
