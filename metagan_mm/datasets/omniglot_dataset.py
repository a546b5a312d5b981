"""The Omniglot data set, read from its own folder layout."""
import os.path as osp
from typing import Callable, List, Sequence, Union

from metagan_mm.registry import DATASETS
from .class_folder_dataset import ClassFolderDataset
from .class_image_dataset import ClassRecord
from .class_split import SplitSpec
from .errors import DataRootError

OMNIGLOT_HELP = (
    'download images_background.zip and images_evaluation.zip from '
    'https://github.com/brendenlake/omniglot (python/ folder) and unzip '
    'both into data_root (docs/user_guides/data.md, "Preparing the data").')


@DATASETS.register_module()
class OmniglotDataset(ClassFolderDataset):
    """Omniglot (Lake et al. 2015) read unchanged from its folders.

    Layout: ``data_root/<subset>/<Alphabet>/<characterNN>/*.png`` with the
    subsets ``images_background`` (30 alphabets, 964 characters) and
    ``images_evaluation`` (20 alphabets, 659 characters). One class is one
    character, named ``'<Alphabet>/<characterNN>'``; its group is the
    alphabet, so splits can be given by alphabet. The 105x105 one-bit PNGs
    show black strokes on white; load them with
    ``dict(type='LoadImageFromFile', key='img', color_type='grayscale')``.

    Args:
        data_root (str): Folder holding the subset folders.
        subsets (Sequence[str]): Subset folders to read, in order.
        **kwargs: See :class:`ClassImageDataset`.
    """

    SUBSETS = ('images_background', 'images_evaluation')

    def __init__(self,
                 data_root: str,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 subsets: Sequence[str] = ('images_background', ),
                 split: SplitSpec = None,
                 split_part: str = 'train',
                 **kwargs) -> None:
        if isinstance(subsets, str):
            subsets = (subsets, )
        self.subsets = tuple(subsets)
        super().__init__(
            data_root=data_root,
            pipeline=pipeline,
            nested=True,
            extensions=('.png', ),
            split=split,
            split_part=split_part,
            **kwargs)

    def scan_classes(self) -> List[ClassRecord]:
        """Scan the subset folders (alphabet -> character -> PNGs)."""
        self._check_root(self.data_root, 'data_root', OMNIGLOT_HELP)
        records: List[ClassRecord] = []
        for subset in self.subsets:
            root = osp.join(self.data_root, subset)
            if not osp.isdir(root):
                zipped = osp.isfile(root + '.zip')
                raise DataRootError(
                    f'OmniglotDataset: subset folder {root!r} does not '
                    'exist' +
                    (f' ({subset}.zip is there: unzip it)' if zipped else '') +
                    f'. Fix: {OMNIGLOT_HELP}'
                    f' Or set subsets= to the folders you have '
                    f'(one of {self.SUBSETS}).')
            found = self._scan_root(root)
            if not found:
                raise DataRootError(
                    f'OmniglotDataset: {root!r} holds no '
                    '<Alphabet>/<character>/*.png images. Fix: '
                    f'{OMNIGLOT_HELP}')
            records.extend(found)
        return records
