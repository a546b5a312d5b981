"""Images in one folder per class (optionally grouped)."""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

from mmengine.logging import print_log

from metagan_mm.registry import DATASETS
from .class_image_dataset import (IMG_EXTENSIONS, ClassImageDataset,
                                  ClassRecord, list_images, list_subdirs)
from .class_split import SplitSpec
from .errors import DataRootError


@DATASETS.register_module()
class ClassFolderDataset(ClassImageDataset):
    """Class-per-folder images: ``root/<class>/*.{png,jpg,jpeg,bmp}``.

    With ``nested=True`` the layout is ``root/<group>/<class>/*`` (class
    name ``'<group>/<class>'``, group usable in splits). Folders without
    images are skipped with a warning. Entries carry ``img_path``; start the
    pipeline with ``LoadImageFromFile``.

    Args:
        data_root (str): The root folder.
        nested (bool): Whether classes are grouped one level deeper.
        extensions (Sequence[str]): Accepted image extensions.
        **kwargs: See :class:`ClassImageDataset` (``pipeline``, ``split``,
            ``split_part``, ``check_images`` ...).
    """

    def __init__(self,
                 data_root: str,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 nested: bool = False,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 split: SplitSpec = None,
                 split_part: str = 'train',
                 **kwargs) -> None:
        self.nested = nested
        self.extensions = tuple(extensions)
        super().__init__(
            data_root=data_root,
            pipeline=pipeline,
            split=split,
            split_part=split_part,
            **kwargs)

    def _scan_root(self,
                   root: str,
                   group_prefix: Optional[str] = None) -> List[ClassRecord]:
        """Scan one root folder into class records."""
        records: List[ClassRecord] = []
        empty: List[str] = []
        if self.nested:
            folders = [(g, c) for g in list_subdirs(root)
                       for c in list_subdirs(osp.join(root, g))]
        else:
            folders = [(None, c) for c in list_subdirs(root)]
        for group, cls in folders:
            rel = cls if group is None else f'{group}/{cls}'
            files = list_images(osp.join(root, rel), self.extensions)
            if not files:
                empty.append(rel)
                continue
            records.append((rel, group, [dict(img_path=f) for f in files]))
        if empty:
            print_log(
                f'{type(self).__name__}: skipped {len(empty)} folder(s) '
                f'without {"/".join(self.extensions)} images under {root}: '
                f'{empty[:5]}',
                logger='current',
                level=30)
        return records

    def scan_classes(self) -> List[ClassRecord]:
        """Scan ``data_root`` (see class docstring)."""
        root = self.data_root
        layout = ('root/<group>/<class>/*.png'
                  if self.nested else 'root/<class>/*.png')
        self._check_root(root, 'data_root',
                         f'point data_root at a folder laid out as {layout}.')
        records = self._scan_root(root)
        if not records:
            raise DataRootError(
                f'{type(self).__name__}: data_root {root!r} has no class '
                f'folders with {"/".join(self.extensions)} images. Fix: lay '
                f'the data out as {layout}' +
                ('' if self.nested else
                 ' (or set nested=True for root/<group>/<class>/*)') + '.')
        return records
