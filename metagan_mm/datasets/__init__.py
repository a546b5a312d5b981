"""Class-structured data sets, class splits and few-shot task sampling.

Importing this package registers (in mmagic's registries):

* DATASETS: :class:`OmniglotDataset`, :class:`ClassFolderDataset`,
  :class:`NpyClassDataset`, :class:`MNISTIDXDataset`, :class:`GlyphDataset`,
  :class:`EpisodicDataset`;
* DATA_SAMPLERS: :class:`EpisodicSampler`;
* FUNCTIONS (mmengine's root registry, where the runner looks collate
  functions up): ``episodic_collate``.
"""
from .class_folder_dataset import ClassFolderDataset
from .class_image_dataset import ClassImageDataset, list_images, read_image
from .class_split import PARTS, ClassSplit
from .collate import episodic_collate
from .episodic_dataset import EpisodicDataset
from .episodic_sampler import EpisodicSampler
from .errors import (DataConfigError, DataRootError, SplitError,
                     TooFewImagesError, UnreadableImageError)
from .glyph_dataset import GlyphDataset, render_glyphs
from .mnist_idx_dataset import MNISTIDXDataset, read_idx
from .npy_class_dataset import NpyClassDataset
from .omniglot_dataset import OmniglotDataset

__all__ = [
    'ClassImageDataset', 'ClassFolderDataset', 'OmniglotDataset',
    'NpyClassDataset', 'MNISTIDXDataset', 'GlyphDataset', 'EpisodicDataset',
    'EpisodicSampler', 'episodic_collate', 'ClassSplit', 'PARTS',
    'DataConfigError', 'DataRootError', 'SplitError', 'TooFewImagesError',
    'UnreadableImageError', 'read_idx', 'read_image', 'list_images',
    'render_glyphs'
]
