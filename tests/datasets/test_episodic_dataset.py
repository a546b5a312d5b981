"""EpisodicDataset (train/eval), episodic_collate and mmagic's
DataPreprocessor on 5-D meta-batches."""
import numpy as np
import pytest
import torch

from metagan_mm.datasets import (ClassFolderDataset, EpisodicDataset,
                                 episodic_collate)
from metagan_mm.registry import DATASETS, FUNCTIONS

GLYPHS = dict(
    type='GlyphDataset',
    chars='0123456789abcdef',
    images_per_class=10,
    pipeline=[dict(type='PackInputs', keys='img')])
OMNI_PIPELINE = [
    dict(type='LoadImageFromFile', key='img', color_type='grayscale'),
    dict(type='Resize', keys='img', scale=(32, 32), interpolation='area'),
    dict(type='PackInputs', keys='img'),
]


def test_train_tasks_deterministic_and_disjoint():
    ep = DATASETS.build(
        dict(
            type='EpisodicDataset',
            dataset=GLYPHS,
            k_shot=3,
            num_query=2,
            seed=7))
    assert len(ep) == 10_000_000
    again = EpisodicDataset(GLYPHS, k_shot=3, num_query=2, seed=7)
    members = ep.dataset.class_to_indices
    classes_seen = set()
    for i in [0, 1, 2, 17, 123456, 9_999_999, 10**9]:
        a, b = ep[i], again[i]
        assert a['inputs'].shape == (5, 1, 32, 32)
        assert a['inputs'].dtype == torch.uint8
        assert torch.equal(a['inputs'], b['inputs'])
        meta = a['data_samples'].metainfo
        assert meta == b['data_samples'].metainfo
        assert meta['task_index'] == i and meta['k_shot'] == 3
        assert meta['num_query'] == 2
        idx = meta['image_indices']
        assert idx == meta['support_indices'] + meta['query_indices']
        assert len(set(idx)) == 5  # support and query do not overlap
        assert set(idx) <= set(members[meta['class_idx']])
        assert meta['class_name'] == ep.dataset.class_names[meta['class_idx']]
        # the tensor is exactly these images, in this order
        expected = np.stack([ep.dataset.get_data_info(j)['img']
                             for j in idx]).transpose(0, 3, 1, 2)
        np.testing.assert_array_equal(a['inputs'].numpy(), expected)
        classes_seen.add(meta['class_idx'])
    assert len(classes_seen) > 3
    other = EpisodicDataset(GLYPHS, k_shot=3, num_query=2, seed=8)
    tasks7 = [ep.get_task(i) for i in range(20)]
    tasks8 = [other.get_task(i) for i in range(20)]
    assert tasks7 != tasks8
    for t in tasks7:
        assert not set(t['support_indices']) & set(t['query_indices'])


def test_train_tasks_on_omniglot(omniglot_dir):
    cfg = dict(
        type='OmniglotDataset',
        data_root=omniglot_dir,
        pipeline=OMNI_PIPELINE,
        split=dict(train=['Latin', 'Greek'], test=['Tagalog']))
    ep = EpisodicDataset(cfg, k_shot=4, num_query=4, seed=0)
    item = ep[3]
    assert item['inputs'].shape == (8, 1, 32, 32)
    meta = item['data_samples'].metainfo
    assert meta['img_color_type'] == 'grayscale'
    assert meta['class_name'].split('/')[0] in ('Latin', 'Greek')
    assert torch.equal(
        EpisodicDataset(cfg, 4, 4, seed=0)[3]['inputs'], item['inputs'])


def test_eval_mode_support_and_reference():
    ev = EpisodicDataset(GLYPHS, k_shot=3, mode='eval', seed=1)
    assert len(ev) == 16
    members = ev.dataset.class_to_indices
    for c in range(16):
        item = ev[c]
        meta = item['data_samples'].metainfo
        sup, ref = meta['support_indices'], meta['reference_indices']
        assert meta['class_idx'] == c and meta['num_reference'] == 7
        assert not set(sup) & set(ref)
        assert sorted(sup + ref) == members[c]
        assert item['inputs']['support'].shape == (3, 1, 32, 32)
        assert item['inputs']['reference'].shape == (7, 1, 32, 32)
    again = EpisodicDataset(GLYPHS, k_shot=3, mode='eval', seed=1)
    assert [again.get_task(c)
            for c in range(16)] == [ev.get_task(c) for c in range(16)]
    capped = EpisodicDataset(
        GLYPHS, k_shot=3, mode='eval', seed=1, num_reference=4)
    assert capped.get_task(2)['support_indices'] == ev.get_task(
        2)['support_indices']
    assert capped.get_task(2)['reference_indices'] == ev.get_task(
        2)['reference_indices'][:4]
    with pytest.raises(IndexError):
        ev.get_task(16)


def test_collate_train_and_eval_padding(tmp_path, make_class_folders):
    ep = EpisodicDataset(GLYPHS, k_shot=2, num_query=3)
    collate = FUNCTIONS.get('episodic_collate')
    assert collate is episodic_collate
    batch = collate([ep[i] for i in range(4)])
    assert batch['inputs'].shape == (4, 5, 1, 32, 32)
    assert [s.task_index for s in batch['data_samples']] == [0, 1, 2, 3]

    make_class_folders(str(tmp_path), {'a': 5, 'b': 8, 'c': 6})
    ev = EpisodicDataset(
        ClassFolderDataset(
            str(tmp_path),
            pipeline=[
                dict(
                    type='LoadImageFromFile',
                    key='img',
                    color_type='grayscale'),
                dict(type='PackInputs', keys='img')
            ]),
        k_shot=2,
        mode='eval')
    items = [ev[c] for c in range(3)]
    padded = episodic_collate(items)
    assert padded['inputs']['support'].shape == (3, 2, 1, 12, 12)
    assert padded['inputs']['reference'].shape == (3, 6, 1, 12, 12)
    counts = [s.num_reference for s in padded['data_samples']]
    assert counts == [3, 6, 4]
    ref = padded['inputs']['reference']
    assert torch.equal(ref[0, :3], items[0]['inputs']['reference'])
    assert ref[0, 3:].abs().sum() == 0  # zero padding after the real ones
    as_list = episodic_collate(items, pad_reference=False)
    assert [r.shape[0] for r in as_list['inputs']['reference']] == [3, 6, 4]


def test_mmagic_data_preprocessor_normalises_5d():
    from mmagic.models.data_preprocessors import DataPreprocessor
    ep = EpisodicDataset(GLYPHS, k_shot=2, num_query=2)
    batch = episodic_collate([ep[i] for i in range(3)])
    raw = batch['inputs'].clone()
    pre = DataPreprocessor(data_keys=None)  # mean = std = 127.5
    out = pre(batch, training=True)
    assert out['inputs'].shape == (3, 4, 1, 32, 32)
    assert out['inputs'].dtype == torch.float32
    torch.testing.assert_close(out['inputs'], (raw.float() - 127.5) / 127.5)
    assert out['data_samples'].task_index == [0, 1, 2]

    ev = EpisodicDataset(GLYPHS, k_shot=3, mode='eval')
    batch = episodic_collate([ev[c] for c in range(2)])
    ref = batch['inputs']['reference'].clone()
    out = pre(batch, training=False)
    assert out['inputs']['support'].shape == (2, 3, 1, 32, 32)
    torch.testing.assert_close(out['inputs']['reference'],
                               (ref.float() - 127.5) / 127.5)
