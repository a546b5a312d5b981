"""Every config is listed in its folder's metafile.yml, and every listed
config exists (mmagic's model-zoo format)."""
import glob
import os.path as osp

import pytest
import yaml

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FOLDERS = sorted(
    d for d in glob.glob(osp.join(REPO_ROOT, 'configs', '*'))
    if osp.isdir(d) and osp.basename(d) != '_base_')


@pytest.mark.parametrize('folder', FOLDERS, ids=osp.basename)
def test_metafile_lists_exactly_the_configs_of_its_folder(folder):
    with open(osp.join(folder, 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    collections = {c['Name'] for c in meta['Collections']}
    for collection in meta['Collections']:
        assert collection['Paper']['Title'] and collection['Paper']['URL']
        assert osp.isfile(osp.join(REPO_ROOT, collection['README']))
    listed = []
    for model in meta['Models']:
        assert model['In Collection'] in collections, model['Name']
        assert osp.splitext(osp.basename(model['Config']))[0] == model['Name']
        assert 'Weights' in model and isinstance(model['Results'], list)
        for result in model['Results']:
            assert result['Dataset'] and result['Task'] and result['Metrics']
        listed.append(model['Config'])
    assert len(listed) == len(set(listed)), 'a config is listed twice'
    present = sorted(
        osp.relpath(p, REPO_ROOT) for p in glob.glob(osp.join(folder, '*.py')))
    assert sorted(listed) == present


def test_every_algorithm_folder_has_a_readme_and_metafile():
    assert {osp.basename(f)
            for f in FOLDERS} >= {'reptile', 'maml', 'meta-sgd', 'baselines'}
    for folder in FOLDERS:
        assert osp.isfile(osp.join(folder, 'README.md'))
        assert osp.isfile(osp.join(folder, 'metafile.yml'))
