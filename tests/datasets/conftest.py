"""Fixtures of the data tests: real Omniglot (skipped where absent) and
writers of tiny generated data sources."""
import gzip
import os
import os.path as osp
import struct
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def find_omniglot() -> Optional[str]:
    """Omniglot folder from $METAGAN_OMNIGLOT or ../shared/data/omniglot."""
    root = os.environ.get('METAGAN_OMNIGLOT') or osp.join(
        REPO_ROOT, '..', 'shared', 'data', 'omniglot')
    return root if osp.isdir(osp.join(root, 'images_background')) else None


@pytest.fixture(scope='session')
def omniglot_dir() -> str:
    """The real Omniglot subset; skips with a message where it is absent."""
    root = find_omniglot()
    if root is None:
        where = os.environ.get('METAGAN_OMNIGLOT') or osp.normpath(
            osp.join(REPO_ROOT, '..', 'shared', 'data', 'omniglot'))
        pytest.skip(f'Omniglot not found at {where} (default: '
                    '../shared/data/omniglot from the repo root); set '
                    'METAGAN_OMNIGLOT to the folder holding '
                    'images_background/')
    return root


def _image(value: int, size: int = 12, channels: int = 1) -> np.ndarray:
    """A small image whose pixels encode ``value`` (distinct per image)."""
    rng = np.random.default_rng(value)
    img = rng.integers(0, 256, (size, size, channels), dtype=np.uint8)
    img[0, 0, :] = value % 256
    return img


@pytest.fixture
def make_class_folders() -> Callable:
    """Writer of ``root/[group/]class/*.png`` trees.

    Call as ``make(root, {'a': 3, 'g1/b': 5}, ext='.png')``; returns a dict
    path -> written array (grayscale HxWx1).
    """
    from PIL import Image

    def make(root: str,
             counts: Dict[str, int],
             ext: str = '.png',
             size: int = 12) -> Dict[str, np.ndarray]:
        written = {}
        serial = 0
        for cls, n in counts.items():
            folder = osp.join(root, cls)
            os.makedirs(folder, exist_ok=True)
            for i in range(n):
                serial += 1
                arr = _image(serial, size)
                path = osp.join(folder, f'{i:03d}{ext}')
                Image.fromarray(arr[..., 0]).save(path)
                written[path] = arr
        return written

    return make


def write_idx(path: str, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (gzip-compressed if .gz)."""
    header = struct.pack('>BBBB', 0, 0, 0x08, array.ndim) + struct.pack(
        f'>{array.ndim}I', *array.shape)
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'wb') as f:
        f.write(header + np.ascontiguousarray(array, np.uint8).tobytes())


@pytest.fixture
def make_idx() -> Callable:
    """Writer of MNIST-style IDX pairs ``<prefix>-images-idx3-ubyte.gz``."""

    def make(root: str,
             prefix: str,
             images: np.ndarray,
             labels: Sequence[int],
             gz: bool = True) -> None:
        ext = '.gz' if gz else ''
        write_idx(osp.join(root, f'{prefix}-images-idx3-ubyte{ext}'), images)
        write_idx(
            osp.join(root, f'{prefix}-labels-idx1-ubyte{ext}'),
            np.asarray(labels, np.uint8))

    return make
