"""Class splits: determinism, disjointness, every spec form, errors."""
import json

import pytest
from mmengine.logging import MessageHub

from metagan_mm.datasets import (PARTS, ClassFolderDataset, ClassSplit,
                                 GlyphDataset, SplitError)

NAMES = [f'G{g}/c{i:02d}' for g in range(4) for i in range(10)]
GROUPS = [n.split('/')[0] for n in NAMES]


def _all(parts):
    return sorted(i for p in PARTS for i in parts[p])


def test_fractions_deterministic_disjoint_and_complete():
    spec = dict(fractions=(0.7, 0.1, 0.2), seed=0)
    a = ClassSplit(spec).resolve(NAMES, GROUPS)
    b = ClassSplit(dict(spec)).resolve(NAMES, GROUPS)
    assert a == b
    assert [len(a[p]) for p in PARTS] == [28, 4, 8]
    assert _all(a) == list(range(40))  # disjoint and complete
    c = ClassSplit(dict(fractions=(0.7, 0.1, 0.2), seed=1)).resolve(NAMES)
    assert c['test'] != a['test']


def test_fractions_by_group_keep_groups_whole():
    parts = ClassSplit(dict(fractions=(0.5, 0.25, 0.25), seed=0,
                            by='group')).resolve(NAMES, GROUPS)
    assert [len(parts[p]) for p in PARTS] == [20, 10, 10]
    for p in PARTS:
        groups = {GROUPS[i] for i in parts[p]}
        assert sum(GROUPS.count(g) for g in groups) == len(parts[p])
    assert _all(parts) == list(range(40))


def test_first_n_and_no_split():
    parts = ClassSplit(dict(first_n=30)).resolve(NAMES)
    assert parts == dict(
        train=list(range(30)), val=[], test=list(range(30, 40)))
    parts = ClassSplit(dict(first_n=(30, 4))).resolve(NAMES)
    assert parts['val'] == [30, 31, 32, 33] and parts['test'][0] == 34
    with pytest.raises(SplitError, match='first_n'):
        ClassSplit(dict(first_n=41)).resolve(NAMES)
    assert ClassSplit(None).resolve(NAMES)['test'] == list(range(40))


def test_groups_and_classes_by_name():
    parts = ClassSplit(dict(train=['G0', 'G1'], val=['G2/c00'],
                            test=['G3'])).resolve(NAMES, GROUPS)
    assert parts['train'] == list(range(20)) and parts['val'] == [20]
    assert parts['test'] == list(range(30, 40))
    explicit = ClassSplit(dict(classes=dict(train=['G0/c01', 'G1/c02'])))
    assert explicit.resolve(NAMES, GROUPS)['train'] == [1, 12]
    with pytest.raises(SplitError, match="no class named 'G0'"):
        ClassSplit(dict(classes=dict(train=['G0']))).resolve(NAMES, GROUPS)


def test_split_files_json_txt(tmp_path):
    jpath = tmp_path / 's.json'
    jpath.write_text(json.dumps(dict(train=['G0'], test=['G1/c03'])))
    tpath = tmp_path / 's.txt'
    tpath.write_text('# comment\ntrain G0\n\ntest G1/c03  # unseen\n')
    a = ClassSplit(str(jpath)).resolve(NAMES, GROUPS)
    b = ClassSplit(dict(file=str(tpath))).resolve(NAMES, GROUPS)
    assert a == b == dict(train=list(range(10)), val=[], test=[13])
    (tmp_path / 'bad.txt').write_text('train\n')
    with pytest.raises(SplitError, match=r'bad.txt:1: expected'):
        ClassSplit(str(tmp_path / 'bad.txt')).resolve(NAMES)
    with pytest.raises(SplitError, match='does not exist'):
        ClassSplit(str(tmp_path / 'none.json')).resolve(NAMES)


def test_unknown_name_lists_close_matches():
    with pytest.raises(SplitError) as err:
        ClassSplit(dict(train=['G0/c1O', 'Latn'])).resolve(NAMES, GROUPS)
    msg = str(err.value)
    assert "no class or group named 'G0/c1O' (did you mean 'G0/c01'" in msg
    assert "no class or group named 'Latn'" in msg
    assert 'Fix:' in msg


def test_overlap_raises_naming_classes():
    with pytest.raises(SplitError) as err:
        ClassSplit(dict(train=['G0'], test=['G0/c03',
                                            'G1'])).resolve(NAMES, GROUPS)
    msg = str(err.value)
    assert "'train' and 'test' share 'G0/c03'" in msg
    assert 'G1/' not in msg
    assert isinstance(err.value, ValueError)
    with pytest.raises(SplitError, match='unknown split part'):
        ClassSplit(dict(training=['G0'])).resolve(NAMES, GROUPS)


def test_dataset_saves_split_to_work_dir_and_roundtrips(tmp_path):
    hub = MessageHub.get_current_instance()
    hub.update_info('work_dir', str(tmp_path))
    try:
        spec = dict(fractions=(0.6, 0.2, 0.2), seed=5, by='class')
        ds = GlyphDataset(
            chars='abcdefghij',
            images_per_class=2,
            split=spec,
            split_part='val')
    finally:
        hub.update_info('work_dir', None)
    saved = tmp_path / 'class_split_GlyphDataset_val.json'
    content = json.loads(saved.read_text(encoding='utf-8'))
    assert content['parts']['val'] == ds.class_names
    assert sum(len(v) for v in content['parts'].values()) == 10
    again = GlyphDataset(
        chars='abcdefghij',
        images_per_class=2,
        split=str(saved),
        split_part='val')
    assert again.class_names == ds.class_names


def test_dataset_split_errors(tmp_path, make_class_folders):
    make_class_folders(str(tmp_path), {'cat': 2, 'dog': 2, 'cow': 2})
    with pytest.raises(SplitError) as err:
        ClassFolderDataset(str(tmp_path), split=dict(train=['cat', 'dgo']))
    assert "'dgo'" in str(err.value) and "'dog'" in str(err.value)
    with pytest.raises(SplitError, match="part 'val'.*has no classes"):
        ClassFolderDataset(
            str(tmp_path), split=dict(train=['cat']), split_part='val')
    with pytest.raises(SplitError, match="share 'dog'"):
        ClassFolderDataset(
            str(tmp_path), split=dict(train=['dog'], val=['dog', 'cow']))
