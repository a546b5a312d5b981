"""Bad input fails before training with a message naming problem and fix."""
import os

import pytest

from metagan_mm.datasets import (ClassFolderDataset, DataRootError,
                                 EpisodicDataset, GlyphDataset,
                                 OmniglotDataset, TooFewImagesError,
                                 UnreadableImageError)

LOAD = [
    dict(type='LoadImageFromFile', key='img', color_type='grayscale'),
    dict(type='PackInputs', keys='img')
]


def test_missing_root(tmp_path):
    with pytest.raises(DataRootError) as err:
        ClassFolderDataset(str(tmp_path / 'missing'))
    assert 'missing' in str(err.value) and 'Fix:' in str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    with pytest.raises(DataRootError, match='images_background.zip'):
        OmniglotDataset(str(tmp_path / 'missing'))


def test_empty_root(tmp_path):
    os.makedirs(tmp_path / 'only_empty_class')
    with pytest.raises(DataRootError) as err:
        ClassFolderDataset(str(tmp_path))
    msg = str(err.value)
    assert 'has no class folders' in msg and 'nested=True' in msg


def test_unreadable_image_at_load_time_and_at_init(tmp_path,
                                                   make_class_folders):
    make_class_folders(str(tmp_path), {'a': 3, 'b': 3})
    bad = tmp_path / 'b' / '001.png'
    bad.write_bytes(b'this is not a png')
    ds = ClassFolderDataset(str(tmp_path), pipeline=LOAD)  # no check
    assert ds[0]['inputs'].shape == (1, 12, 12)
    with pytest.raises(UnreadableImageError) as err:
        ds[4]
    assert str(bad) in str(err.value) and 'check_images=True' in str(err.value)
    with pytest.raises(UnreadableImageError) as err:
        ClassFolderDataset(str(tmp_path), check_images=True)
    assert '1 unreadable image' in str(err.value) and str(bad) in str(
        err.value)


def test_too_few_images_names_class_and_count(tmp_path, make_class_folders):
    make_class_folders(str(tmp_path), {'big': 9, 'tiny': 3, 'mid': 7})
    base = dict(type='ClassFolderDataset', data_root=str(tmp_path))
    with pytest.raises(TooFewImagesError) as err:
        EpisodicDataset(base, k_shot=4, num_query=4)
    msg = str(err.value)
    assert "'tiny' has 3" in msg and "'mid' has 7" in msg
    assert "'big'" not in msg
    assert 'drop_small_classes=True' in msg and 'lower' in msg
    assert isinstance(err.value, ValueError)
    ep = EpisodicDataset(base, k_shot=4, num_query=4, drop_small_classes=True)
    assert [ep.dataset.class_names[c] for c in ep.classes] == ['big']
    assert all(ep.get_task(i)['class_idx'] == ep.classes[0] for i in range(5))
    # eval needs k_shot + 1: 'mid' (7) is usable with k_shot=6, tiny not
    ev = EpisodicDataset(base, k_shot=6, mode='eval', drop_small_classes=True)
    assert [ev.dataset.class_names[c] for c in ev.classes] == ['big', 'mid']
    with pytest.raises(TooFewImagesError, match='lower k_shot'):
        EpisodicDataset(base, k_shot=9, num_query=1, drop_small_classes=True)


def test_bad_episodic_arguments():
    glyphs = GlyphDataset(chars='ab', images_per_class=4)
    with pytest.raises(ValueError, match="mode must be 'train' or 'eval'"):
        EpisodicDataset(glyphs, mode='test')
    with pytest.raises(ValueError, match='k_shot >= 1'):
        EpisodicDataset(glyphs, k_shot=0)
