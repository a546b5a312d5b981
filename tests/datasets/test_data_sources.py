"""Every class data source on real (Omniglot) or generated files."""
import os
import os.path as osp
import time

import numpy as np
import pytest
import torch

from metagan_mm.datasets import (ClassFolderDataset, DataConfigError,
                                 DataRootError, GlyphDataset, MNISTIDXDataset,
                                 NpyClassDataset, OmniglotDataset,
                                 glyph_dataset, render_glyphs)
from metagan_mm.registry import DATASETS

OMNI_PIPELINE = [
    dict(type='LoadImageFromFile', key='img', color_type='grayscale'),
    dict(type='Resize', keys='img', scale=(32, 32), interpolation='area'),
    dict(type='PackInputs', keys='img'),
]


# --------------------------------------------------------------- Omniglot
def test_omniglot_counts_layout_and_pipeline(omniglot_dir):
    ds = DATASETS.build(
        dict(
            type='OmniglotDataset',
            data_root=omniglot_dir,
            pipeline=OMNI_PIPELINE))
    assert isinstance(ds, OmniglotDataset)
    assert (ds.num_classes, len(ds)) == (160, 3200)
    assert [len(m) for m in ds.class_to_indices] == [20] * 160
    assert sorted(set(ds.class_groups)) == [
        'Balinese', 'Early_Aramaic', 'Greek', 'Japanese_(katakana)', 'Latin',
        'Tagalog'
    ]
    assert ds.class_names[0] == 'Balinese/character01'
    info = ds.get_data_info(ds.class_to_indices[5][3])
    assert info['gt_label'] == 5 and info['class_name'] == ds.class_names[5]
    assert info['img_path'].endswith('.png') and osp.isfile(info['img_path'])
    assert ds.metainfo['classes'][5] == ds.class_names[5]
    out = ds[0]
    assert out['inputs'].shape == (1, 32, 32)
    assert out['inputs'].dtype == torch.uint8
    raw = ds.get_class_images(2)
    assert len(raw) == 20 and raw[0].shape == (105, 105, 1)
    assert set(np.unique(raw[0])) <= {0, 255}


def test_omniglot_split_by_alphabet_and_lazy_init(omniglot_dir):
    split = dict(train=['Latin', 'Greek'], val=['Tagalog'], test=['Balinese'])
    sizes = {}
    for part in ('train', 'val', 'test'):
        ds = OmniglotDataset(
            omniglot_dir, split=split, split_part=part, lazy_init=True)
        assert not ds._fully_initialized
        sizes[part] = (ds.num_classes, len(ds))
        assert ds._fully_initialized
    assert sizes == {'train': (50, 1000), 'val': (17, 340), 'test': (24, 480)}


def test_omniglot_missing_subset_names_folder_and_fix(omniglot_dir):
    with pytest.raises(DataRootError) as err:
        OmniglotDataset(
            omniglot_dir, subsets=('images_background', 'images_evaluation'))
    msg = str(err.value)
    assert 'images_evaluation' in msg and 'unzip' in msg
    assert 'subsets=' in msg


# --------------------------------------------------------- class folders
def test_class_folder_flat(tmp_path, make_class_folders):
    written = make_class_folders(str(tmp_path), {'b': 4, 'a': 3, 'c': 5})
    os.makedirs(tmp_path / 'empty')
    (tmp_path / 'a' / 'notes.txt').write_text('not an image')
    ds = ClassFolderDataset(str(tmp_path))
    assert ds.class_names == ['a', 'b', 'c']
    assert [len(m) for m in ds.class_to_indices] == [3, 4, 5]
    assert ds.class_groups == [None] * 3
    for label, members in enumerate(ds.class_to_indices):
        for idx in members:
            info = ds.get_data_info(idx)
            assert info['gt_label'] == label
            assert info['class_name'] == ds.class_names[label]
    imgs = ds.get_class_images(1)
    paths = [ds.get_data_info(i)['img_path'] for i in ds.class_to_indices[1]]
    for img, path in zip(imgs, paths):
        np.testing.assert_array_equal(img, written[path])


def test_class_folder_nested_extensions_and_mmagic_loading(
        tmp_path, make_class_folders):
    make_class_folders(str(tmp_path), {'g1/x': 2, 'g1/y': 3}, ext='.bmp')
    make_class_folders(str(tmp_path), {'g2/z': 4}, ext='.PNG')
    ds = ClassFolderDataset(
        str(tmp_path),
        nested=True,
        pipeline=[
            dict(type='LoadImageFromFile', key='img', color_type='grayscale'),
            dict(type='PackInputs', keys='img')
        ],
        split=dict(train=['g1'], test=['g2']),
        split_part='train')
    assert ds.class_names == ['g1/x', 'g1/y']
    assert ds.class_groups == ['g1', 'g1']
    assert len(ds) == 5
    packed = ds[2]
    path = ds.get_data_info(2)['img_path']
    expected = ds.get_class_images(1, indices=[0])[0]
    assert path.endswith('g1/y/000.bmp')
    np.testing.assert_array_equal(packed['inputs'].numpy(),
                                  expected.transpose(2, 0, 1))
    test = ClassFolderDataset(
        str(tmp_path),
        nested=True,
        split=dict(train=['g1'], test=['g2']),
        split_part='test')
    assert test.class_names == ['g2/z'] and len(test) == 4


# ------------------------------------------------------------------- npy
def test_npy_rgb_first_n_split_and_mmap(tmp_path):
    arr = np.random.default_rng(0).integers(
        0, 256, (6, 7, 8, 8, 3), dtype=np.uint8)
    path = str(tmp_path / 'data.npy')
    np.save(path, arr)
    train = NpyClassDataset(path, split=dict(first_n=4), split_part='train')
    test = DATASETS.build(
        dict(
            type='NpyClassDataset',
            data_root=str(tmp_path),
            npy_file='data.npy',
            split=dict(first_n=4),
            split_part='test'))
    assert (train.num_classes, len(train)) == (4, 28)
    assert (test.num_classes, len(test)) == (2, 14)
    assert test.class_names == ['00004', '00005']
    assert isinstance(train.array, np.memmap)
    info = test.get_data_info(test.class_to_indices[1][6])
    np.testing.assert_array_equal(info['img'], arr[5, 6])
    assert info['gt_label'] == 1
    limited = NpyClassDataset(path, images_per_class=3)
    assert [len(m) for m in limited.class_to_indices] == [3] * 6
    packed = NpyClassDataset(
        path, pipeline=[dict(type='PackInputs', keys='img')])[8]
    np.testing.assert_array_equal(packed['inputs'].numpy(),
                                  arr[1, 1].transpose(2, 0, 1))


def test_npy_grayscale_4d_and_bad_dtype(tmp_path):
    gray = np.arange(3 * 2 * 5 * 5, dtype=np.uint8).reshape(3, 2, 5, 5)
    np.save(tmp_path / 'g.npy', gray)
    ds = NpyClassDataset(str(tmp_path / 'g.npy'))
    assert ds.get_data_info(3)['img'].shape == (5, 5, 1)
    np.testing.assert_array_equal(
        ds.get_data_info(3)['img'][..., 0], gray[1, 1])
    np.save(tmp_path / 'i.npy', gray.astype(np.int32))
    with pytest.raises(DataConfigError, match='dtype int32.*uint8'):
        NpyClassDataset(str(tmp_path / 'i.npy'))
    with pytest.raises(DataRootError, match='does not exist'):
        NpyClassDataset(str(tmp_path / 'missing.npy'))


def test_npy_float_array_is_read_as_0_1(tmp_path):
    # LoFGAN's VGGFace array holds floats in [0, 1]
    rng = np.random.default_rng(0)
    arr = rng.random((2, 3, 4, 4, 3), dtype=np.float32)
    arr[1, 2, 0, 0] = [0.0, 1.0, 0.5]
    np.save(tmp_path / 'f.npy', arr)
    img = NpyClassDataset(str(tmp_path / 'f.npy')).get_data_info(5)['img']
    assert img.dtype == np.uint8
    np.testing.assert_array_equal(img, np.round(arr[1, 2] * 255))
    np.testing.assert_array_equal(img[0, 0], [0, 255, 128])
    np.save(tmp_path / 'g.npy', arr * 255)
    with pytest.raises(DataConfigError, match=r'image 0 of class 0.*\[0, 1\]'):
        NpyClassDataset(str(tmp_path / 'g.npy')).get_data_info(0)


# ------------------------------------------------------------------- IDX
def test_mnist_idx_gz_and_plain(tmp_path, make_idx):
    rng = np.random.default_rng(1)
    tr_img = rng.integers(0, 256, (30, 6, 6), dtype=np.uint8)
    tr_lab = np.arange(30) % 3
    te_img = rng.integers(0, 256, (9, 6, 6), dtype=np.uint8)
    te_lab = np.array([2, 1, 0] * 3)
    make_idx(str(tmp_path), 'train', tr_img, tr_lab)
    make_idx(str(tmp_path), 't10k', te_img, te_lab, gz=False)
    ds = MNISTIDXDataset(str(tmp_path))
    assert ds.class_names == ['0', '1', '2']
    assert [len(m) for m in ds.class_to_indices] == [13, 13, 13]
    first_of_2 = ds.get_data_info(ds.class_to_indices[2][0])
    np.testing.assert_array_equal(first_of_2['img'][..., 0], tr_img[2])
    last_of_0 = ds.get_data_info(ds.class_to_indices[0][-1])
    np.testing.assert_array_equal(last_of_0['img'][..., 0], te_img[8])
    named = MNISTIDXDataset(
        str(tmp_path),
        subsets='t10k',
        label_names=['zero', 'one', 'two'],
        transpose=True)
    assert named.class_names == ['zero', 'one', 'two'] and len(named) == 9
    np.testing.assert_array_equal(
        named.get_data_info(named.class_to_indices[2][0])['img'][..., 0],
        te_img[0].T)


def test_mnist_idx_errors(tmp_path, make_idx):
    with pytest.raises(DataRootError, match='does not exist'):
        MNISTIDXDataset(str(tmp_path / 'nope'))
    make_idx(
        str(tmp_path), 'train', np.zeros((4, 5, 5), np.uint8), [0, 1, 0, 1])
    with pytest.raises(DataRootError) as err:
        MNISTIDXDataset(str(tmp_path))  # no t10k files
    assert 't10k-images-idx3-ubyte' in str(err.value)
    assert 'train-images-idx3-ubyte.gz' in str(err.value)
    with open(tmp_path / 'bad-images-idx3-ubyte', 'wb') as f:
        f.write(b'\x00\x00\x08\x03' + b'\x00\x00\x00\x02' * 3 + b'\x01')
    with open(tmp_path / 'bad-labels-idx1-ubyte', 'wb') as f:
        f.write(b'\x00\x00\x08\x01\x00\x00\x00\x02\x00\x01')
    with pytest.raises(DataConfigError, match='truncated or corrupt'):
        MNISTIDXDataset(str(tmp_path), subsets=('bad', ))


# ----------------------------------------------------------------- glyphs
def test_glyph_dataset_deterministic_count_and_fast():
    glyph_dataset._CACHE.clear()
    start = time.process_time()  # CPU time: robust to a busy machine
    ds = GlyphDataset()
    first = ds.images.copy()
    elapsed = time.process_time() - start
    assert elapsed < 5.0, f'rendering took {elapsed:.1f} s of CPU'
    assert ds.num_classes == 95 and len(ds) == 95 * 20
    assert first.shape == (95, 20, 32, 32, 1) and first.dtype == np.uint8
    assert ds.class_names[:2] == ['Digit/0', 'Digit/1']
    assert sorted(set(ds.class_groups)) == ['Digit', 'Greek', 'Latin']
    glyph_dataset._CACHE.clear()
    again = GlyphDataset().images
    assert again.tobytes() == first.tobytes()
    # white glyph on black: background (corners) dark, some bright strokes
    assert first[:, :, 0, 0, 0].max() == 0
    assert (first.reshape(95 * 20, -1).max(1) > 200).all()
    # instances of one class differ; classes differ
    assert not np.array_equal(first[0, 0], first[0, 1])
    info = ds.get_data_info(ds.class_to_indices[40][3])
    np.testing.assert_array_equal(info['img'], first[40, 3])


def test_glyph_options():
    small = GlyphDataset(
        chars='ab7',
        images_per_class=5,
        img_size=16,
        seed=3,
        invert=True,
        split=dict(train=['Latin'], test=['Digit']))
    assert small.class_names == ['Latin/a', 'Latin/b']
    imgs = small.images
    assert imgs.shape == (3, 5, 16, 16, 1)
    assert imgs[:, :, 0, 0, 0].min() == 255  # black on white
    other = render_glyphs(small.chars, small.fonts, 5, 16, 4, True)
    assert not np.array_equal(imgs, other)  # the seed matters
    with pytest.raises(DataConfigError, match='unique'):
        GlyphDataset(chars='aa')
    with pytest.raises(DataConfigError, match='none of the fonts'):
        GlyphDataset(chars='a\u4e00', fonts=['DejaVuSans.ttf'])
