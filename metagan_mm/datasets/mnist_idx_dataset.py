"""MNIST-style IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST)."""
import glob
import gzip
import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

from metagan_mm.registry import DATASETS
from .class_image_dataset import ClassImageDataset, ClassRecord
from .class_split import SplitSpec
from .errors import DataConfigError, DataRootError

_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype('>i2'),
    0x0C: np.dtype('>i4'),
    0x0D: np.dtype('>f4'),
    0x0E: np.dtype('>f8')
}


def read_idx(path: str) -> np.ndarray:
    """Parse an IDX file (optionally gzip-compressed).

    Args:
        path (str): ``*.idx?-ubyte`` or ``*.idx?-ubyte.gz`` file.

    Returns:
        np.ndarray: The array with the shape stored in the header.

    Raises:
        DataConfigError: The file is not a valid IDX file.
    """
    opener = gzip.open if path.endswith('.gz') else open
    try:
        with opener(path, 'rb') as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise DataConfigError(
            f'cannot read IDX file {path!r} ({err}). Fix: download it again '
            '(a .gz file must be a complete gzip archive).') from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataConfigError(
            f'{path!r} is not an IDX file (bad magic number '
            f'{raw[:4].hex()}). Fix: use the *-idx3-ubyte / *-idx1-ubyte '
            'files of MNIST-style data sets.')
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw, '>u4', ndim, 4))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataConfigError(
            f'IDX file {path!r} is truncated or corrupt: header says shape '
            f'{shape} ({expected} bytes) but {len(raw) - header} bytes '
            'follow. Fix: download it again.')
    return np.frombuffer(
        raw, dtype,
        offset=header).reshape(shape).astype(dtype.newbyteorder('='))


@DATASETS.register_module()
class MNISTIDXDataset(ClassImageDataset):
    """MNIST-style IDX files: one class per label.

    For every name in ``subsets`` the folder ``data_root`` must hold exactly
    one ``*<subset>-images-idx3-ubyte[.gz]`` and one
    ``*<subset>-labels-idx1-ubyte[.gz]`` file (``train``/``t10k`` for MNIST,
    Fashion-MNIST and KMNIST; ``emnist-letters-train`` etc. for EMNIST, with
    ``transpose=True``). Images become ``HxWx1`` uint8 (white on black, as
    stored) in entries' ``img``, so the pipeline starts without a loading
    transform. Classes are the sorted labels, named by ``label_names`` (e.g.
    Fashion-MNIST's ``'T-shirt/top'``...) or ``str(label)``.

    Args:
        data_root (str): Folder with the IDX files.
        subsets (Sequence[str]): Which file pairs to read and concatenate.
        label_names (Sequence[str], optional): Name of label ``i``.
        transpose (bool): Transpose each image (EMNIST stores them
            transposed).
        **kwargs: See :class:`ClassImageDataset`.
    """

    def __init__(self,
                 data_root: str,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 subsets: Sequence[str] = ('train', 't10k'),
                 label_names: Optional[Sequence[str]] = None,
                 transpose: bool = False,
                 split: SplitSpec = None,
                 split_part: str = 'train',
                 **kwargs) -> None:
        if isinstance(subsets, str):
            subsets = (subsets, )
        self.subsets = tuple(subsets)
        self.label_names = list(label_names) if label_names else None
        self.transpose = transpose
        self._images: Optional[np.ndarray] = None
        super().__init__(
            data_root=data_root,
            pipeline=pipeline,
            split=split,
            split_part=split_part,
            **kwargs)

    def _find(self, subset: str, kind: str) -> str:
        magic = 'idx3' if kind == 'images' else 'idx1'
        pattern = osp.join(self.data_root, f'*{subset}-{kind}-{magic}-ubyte')
        found = sorted(glob.glob(pattern) + glob.glob(pattern + '.gz'))
        # prefer an exact '<subset>-...' match over e.g. 'emnist-<subset>-'
        exact = [f for f in found if osp.basename(f).startswith(f'{subset}-')]
        found = exact or found
        # an unpacked file and its .gz are the same data: keep one
        plain = [f for f in found if not f.endswith('.gz')]
        found = plain or found
        if len(found) != 1:
            listing = sorted(
                osp.basename(f)
                for f in glob.glob(osp.join(self.data_root, '*ubyte*')))
            raise DataRootError(
                f'MNISTIDXDataset: expected one {kind} file matching '
                f'"*{subset}-{kind}-{magic}-ubyte[.gz]" in '
                f'{self.data_root!r}, found {len(found)} '
                f'({[osp.basename(f) for f in found]}); IDX files there: '
                f'{listing}. Fix: set subsets= to the file prefixes you have '
                '(e.g. ("train", "t10k")) or download the files (see '
                'docs/user_guides/data.md, "Preparing the data").')
        return found[0]

    def _load(self) -> Tuple[np.ndarray, np.ndarray]:
        self._check_root(
            self.data_root, 'data_root',
            'point data_root at the folder with the *-idx3-ubyte.gz files.')
        images, labels = [], []
        for subset in self.subsets:
            img = read_idx(self._find(subset, 'images'))
            lab = read_idx(self._find(subset, 'labels'))
            if img.ndim != 3 or lab.ndim != 1 or len(img) != len(lab):
                raise DataConfigError(
                    f'MNISTIDXDataset: subset {subset!r} has images of shape '
                    f'{img.shape} and labels of shape {lab.shape}; expected '
                    '[N, H, W] and [N]. Fix: check the file pairing.')
            images.append(img.astype(np.uint8, copy=False))
            labels.append(lab.astype(np.int64))
        imgs = np.concatenate(images)
        if self.transpose:
            imgs = imgs.transpose(0, 2, 1)
        return np.ascontiguousarray(imgs[..., None]), np.concatenate(labels)

    def scan_classes(self) -> List[ClassRecord]:
        """One record per label value (ascending)."""
        images, labels = self._load()
        self._images = images
        records: List[ClassRecord] = []
        for label in np.unique(labels):
            if self.label_names is not None:
                if label >= len(self.label_names):
                    raise DataConfigError(
                        f'MNISTIDXDataset: label {label} has no entry in '
                        f'label_names ({len(self.label_names)} names).')
                name = str(self.label_names[label])
            else:
                name = str(int(label))
            idx = np.flatnonzero(labels == label)
            records.append(
                (name, None, [dict(array_index=int(i)) for i in idx]))
        return records

    def _materialize(self, info: dict) -> dict:
        info['img'] = self._images[info['array_index']].copy()
        return info
