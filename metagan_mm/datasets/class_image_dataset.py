"""Base class of the class-structured (few-shot) image data sets."""
import json
import logging
import os
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.dist import get_dist_info
from mmengine.logging import MessageHub, MMLogger, print_log

from metagan_mm.checkpoint import write_atomically
from .class_split import PARTS, ClassSplit, SplitSpec
from .errors import (DataConfigError, DataRootError, SplitError,
                     UnreadableImageError)

IMG_EXTENSIONS: Tuple[str, ...] = ('.png', '.jpg', '.jpeg', '.bmp')

#: One class found by a data source: (class name, group or None, entries).
#: Each entry is a dict with ``img_path`` or ``img`` (or a source-specific
#: key such as ``array_index`` that :meth:`_materialize` turns into ``img``).
ClassRecord = Tuple[str, Optional[str], List[Dict[str, Any]]]


def list_images(folder: str,
                extensions: Sequence[str] = IMG_EXTENSIONS) -> List[str]:
    """Sorted image files (by extension, case-insensitive) in ``folder``.

    Args:
        folder (str): The folder to list (not recursive).
        extensions (Sequence[str]): Accepted extensions with their dot.

    Returns:
        List[str]: Full paths, sorted by file name; hidden files skipped.
    """
    exts = tuple(e.lower() for e in extensions)
    names = sorted(
        n for n in os.listdir(folder) if not n.startswith('.')
        and n.lower().endswith(exts) and osp.isfile(osp.join(folder, n)))
    return [osp.join(folder, n) for n in names]


def list_subdirs(folder: str) -> List[str]:
    """Sorted names of the non-hidden sub-folders of ``folder``."""
    return sorted(
        n for n in os.listdir(folder)
        if not n.startswith('.') and osp.isdir(osp.join(folder, n)))


def read_image(path: str) -> np.ndarray:
    """Decode an image file into an ``HxWxC`` uint8 array with PIL.

    One-bit and grayscale files give ``C=1``; everything else is converted
    to RGB (``C=3``, **RGB** order -- mmcv's loaders default to BGR).

    Args:
        path (str): The image file.

    Returns:
        np.ndarray: The decoded image.

    Raises:
        UnreadableImageError: The file cannot be decoded.
    """
    from PIL import Image
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ('1', 'L', 'I', 'I;16', 'F'):
                arr = np.asarray(img.convert('L'), dtype=np.uint8)[..., None]
            else:
                arr = np.asarray(img.convert('RGB'), dtype=np.uint8)
    except Exception as err:  # PIL raises many types
        raise UnreadableImageError(
            f'cannot read image file {path!r}: {type(err).__name__}: {err}. '
            'Fix: replace or delete the file (set check_images=True to '
            'verify every file when the data set is built).') from err
    return arr


class ClassImageDataset(BaseDataset):
    """Base of the class-structured data sets (one class = one concept).

    Subclasses implement :meth:`scan_classes`, which returns *all* classes of
    the source in a deterministic order; this class applies the class split,
    numbers the selected classes ``0..num_classes-1`` (``gt_label``) and
    builds ``class_to_indices``.  ``data_list`` entries (as returned by
    :meth:`get_data_info`) are
    ``{'img_path': str}`` or ``{'img': HxWxC uint8 ndarray}`` plus
    ``gt_label`` (int) and ``class_name`` (str).

    Pipelines are built from mmagic's ``TRANSFORMS`` registry whatever the
    default scope, e.g.::

        pipeline=[
            dict(type='LoadImageFromFile', key='img',
                 color_type='grayscale'),
            dict(type='Resize', keys='img', scale=(32, 32)),
            dict(type='PackInputs', keys='img'),
        ]

    For in-memory sources (npy, IDX, glyphs) the results dict already holds
    ``'img'``, so their pipelines start *without* a loading transform.

    Args:
        data_root (str): Root folder (or file) of the source.
        pipeline (Sequence[dict | Callable]): Transforms applied per image.
        split (None | str | dict | ClassSplit): Class split, see
            :mod:`metagan_mm.datasets.class_split`.
        split_part (str): ``'train'``, ``'val'`` or ``'test'``. Ignored when
            ``split`` is None.
        split_file_out (str, optional): Where to save the resolved split as
            json. Defaults to ``<work_dir>/class_split_<Dataset>_<part>.json``
            when a runner's work dir is known (else nothing is saved).
        check_images (bool): Decode every image file once when the data set
            is initialised and raise :class:`UnreadableImageError` listing
            the bad ones. Defaults to False (bad files then raise when
            loaded).
        serialize_data (bool): See :class:`mmengine.dataset.BaseDataset`.
        lazy_init (bool): See :class:`mmengine.dataset.BaseDataset`.
        test_mode (bool): See :class:`mmengine.dataset.BaseDataset`.
        max_refetch (int): See :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 data_root: str = '',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 split: SplitSpec = None,
                 split_part: str = 'train',
                 split_file_out: Optional[str] = None,
                 check_images: bool = False,
                 serialize_data: bool = True,
                 lazy_init: bool = False,
                 test_mode: bool = False,
                 max_refetch: int = 1000) -> None:
        if split_part not in PARTS:
            raise DataConfigError(f'split_part must be one of {PARTS}, got '
                                  f'{split_part!r}')
        self.split = ClassSplit(split)
        self.split_part = split_part
        self.split_file_out = split_file_out
        self.check_images = check_images
        self._class_names: List[str] = []
        self._class_groups: List[Optional[str]] = []
        self._class_to_indices: List[List[int]] = []
        self.split_classes: Dict[str, List[str]] = {}
        super().__init__(
            ann_file='',
            metainfo=None,
            data_root=data_root,
            data_prefix=dict(),
            filter_cfg=None,
            indices=None,
            serialize_data=serialize_data,
            pipeline=self._build_pipeline(pipeline),
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch)

    # ------------------------------------------------------------------
    # subclass interface
    def scan_classes(self) -> List[ClassRecord]:
        """Return every class of the source, in a deterministic order.

        Returns:
            List[ClassRecord]: ``(class_name, group, entries)`` per class.
        """
        raise NotImplementedError

    def _materialize(self, info: dict) -> dict:
        """Turn a stored entry into a full one (e.g. fetch ``img``).

        Args:
            info (dict): A copy of the stored entry.

        Returns:
            dict: The entry handed to the pipeline.
        """
        return info

    # ------------------------------------------------------------------
    @staticmethod
    def _build_pipeline(pipeline: Sequence[Union[dict,
                                                 Callable]]) -> List[Callable]:
        if not pipeline:
            return []
        from metagan_mm.registry import TRANSFORMS
        return [
            TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline
        ]

    def _check_root(self, path: str, what: str, how: str) -> None:
        if not path or not osp.exists(path):
            raise DataRootError(
                f'{type(self).__name__}: {what} {path!r} does not exist. '
                f'Fix: {how}')

    def load_data_list(self) -> List[dict]:
        """Scan the source, apply the split and build the class index.

        Returns:
            List[dict]: The entries of the selected classes.
        """
        records = self.scan_classes()
        name = type(self).__name__
        if not records:
            raise DataRootError(
                f'{name}: no classes with images found under '
                f'{self.data_root!r}. Fix: point data_root at the prepared '
                'data (docs/user_guides/data.md, "Data sources", for the '
                'expected layout).')
        names = [r[0] for r in records]
        groups = [r[1] for r in records]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise DataConfigError(f'{name}: duplicate class names {dup[:10]}')
        parts = self.split.resolve(names, groups)
        selected = parts[self.split_part]
        if not selected:
            raise SplitError(
                f'{name}: split part {self.split_part!r} of split '
                f'{self.split.describe()} has no classes. Fix: give that '
                'part classes or choose another split_part.')
        self.split_classes = {p: [names[i] for i in parts[p]] for p in PARTS}

        data_list: List[dict] = []
        self._class_names, self._class_groups = [], []
        self._class_to_indices = []
        for label, c in enumerate(selected):
            cname, group, entries = records[c]
            indices = []
            for entry in entries:
                entry = dict(entry)
                entry['gt_label'] = label
                entry['class_name'] = cname
                indices.append(len(data_list))
                data_list.append(entry)
            self._class_names.append(cname)
            self._class_groups.append(group)
            self._class_to_indices.append(indices)
        self._metainfo['classes'] = tuple(self._class_names)
        self._log_and_save_split(names, parts, len(data_list))
        if self.check_images:
            self._verify_files(data_list)
        return data_list

    # ------------------------------------------------------------------
    @staticmethod
    def _find_work_dir() -> Optional[str]:
        """The current runner's work dir, if one can be found."""
        work_dir = MessageHub.get_current_instance().get_info('work_dir')
        if work_dir:
            return str(work_dir)
        for handler in MMLogger.get_current_instance().handlers:
            if isinstance(handler, logging.FileHandler):
                # mmengine's Runner logs to <work_dir>/<ts>/<ts>.log
                log_dir = osp.dirname(handler.baseFilename)
                stem = osp.splitext(osp.basename(handler.baseFilename))[0]
                if osp.basename(log_dir) == stem:
                    return osp.dirname(log_dir)
        return None

    def _log_and_save_split(self, names: List[str], parts: Dict[str,
                                                                List[int]],
                            num_images: int) -> None:
        name = type(self).__name__
        counts = ', '.join(f'{p} {len(parts[p])}' for p in PARTS)
        if self.split.spec is None:
            print_log(
                f'{name}: {len(names)} classes, {num_images} images '
                f'(no class split)',
                logger='current')
            return
        print_log(
            f'{name}: class split {self.split.describe()} -> {counts} '
            f'classes; using {self.split_part!r}: '
            f'{len(parts[self.split_part])} classes, {num_images} images',
            logger='current')
        out = self.split_file_out
        if out is None:
            work_dir = self._find_work_dir()
            if work_dir is None:
                return
            out = osp.join(work_dir,
                           f'class_split_{name}_{self.split_part}.json')
        if get_dist_info()[0] != 0:
            return
        payload = dict(
            dataset=name,
            data_root=str(self.data_root),
            split=self.split.describe(),
            split_part=self.split_part,
            parts={p: [names[i] for i in parts[p]]
                   for p in PARTS})
        write_atomically(
            out,
            json.dumps(payload, indent=1, ensure_ascii=False).encode('utf-8'))
        print_log(f'{name}: class split saved to {out}', logger='current')

    def _verify_files(self, data_list: List[dict]) -> None:
        bad = []
        for entry in data_list:
            path = entry.get('img_path')
            if path is None:
                continue
            try:
                read_image(path)
            except UnreadableImageError as err:
                bad.append(f'{path} ({err.__cause__})')
        if bad:
            raise UnreadableImageError(
                f'{type(self).__name__}: {len(bad)} unreadable image '
                'file(s):\n  ' + '\n  '.join(bad[:20]) +
                ('\n  ...' if len(bad) > 20 else '') +
                '\nFix: replace or delete these files.')

    # ------------------------------------------------------------------
    @property
    def class_names(self) -> List[str]:
        """Names of the selected classes; index = ``gt_label``."""
        self.full_init()
        return self._class_names

    @property
    def class_groups(self) -> List[Optional[str]]:
        """Group (alphabet, folder group, script) of each class, or None."""
        self.full_init()
        return self._class_groups

    @property
    def class_to_indices(self) -> List[List[int]]:
        """Data-set indices of the images of each class (by ``gt_label``)."""
        self.full_init()
        return self._class_to_indices

    @property
    def num_classes(self) -> int:
        """Number of selected classes."""
        return len(self.class_names)

    def get_data_info(self, idx: int) -> dict:
        """Get the entry of image ``idx`` (with ``img`` for array sources).

        Args:
            idx (int): Data-set index.

        Returns:
            dict: ``img_path`` or ``img``, ``gt_label``, ``class_name``,
            ``sample_idx``.
        """
        return self._materialize(super().get_data_info(idx))

    def prepare_data(self, idx: int) -> Any:
        """Run the pipeline on image ``idx``; unreadable files raise
        :class:`UnreadableImageError` naming the file.

        Args:
            idx (int): Data-set index.

        Returns:
            Any: The pipeline output.
        """
        info = self.get_data_info(idx)
        path = info.get('img_path')
        try:
            return self.pipeline(info)
        except UnreadableImageError:
            raise
        except Exception as err:
            if path is not None:
                read_image(path)  # raises a clear error if unreadable
            raise err

    def get_class_images(self,
                         class_idx: int,
                         indices: Optional[Sequence[int]] = None
                         ) -> List[np.ndarray]:
        """Raw images of one class (no pipeline), ``HxWxC`` uint8.

        Files are decoded with PIL (grayscale -> 1 channel, colour -> RGB).

        Args:
            class_idx (int): Class index (``gt_label``).
            indices (Sequence[int], optional): Positions within the class
                (default: all images of the class).

        Returns:
            List[np.ndarray]: One array per image.
        """
        members = self.class_to_indices[class_idx]
        if indices is not None:
            members = [members[i] for i in indices]
        images = []
        for idx in members:
            info = self.get_data_info(idx)
            img = info.get('img')
            if img is None:
                img = read_image(info['img_path'])
            images.append(np.asarray(img))
        return images
