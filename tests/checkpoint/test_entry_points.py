"""A crafted checkpoint runs its payload from no entry point.

Each tool is called as a user would (its ``main`` with command-line
arguments) on a file whose unpickling would create ``marker``; every one
must refuse it with the message naming the type and ``--trust-checkpoint``.
"""
import importlib.util
import os.path as osp

import pytest

from metagan_mm.checkpoint import UnsafeCheckpointError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs', 'reptile',
                  'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')

TINY = [
    '--cfg-options', 'model.inner_loop.steps=1', 'custom_hooks=[]',
    'train_cfg.max_iters=1', 'train_dataloader.batch_size=2'
]


def refused(capsys, call):
    with pytest.raises(SystemExit) as info:
        call()
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert 'UnsafeCheckpointError' in err and 'posix.system' in err, err
    assert '--trust-checkpoint' in err
    return err


def test_train_resume_auto(crafted, capsys, tool):
    path, marker = crafted  # iter_600.pth in the work dir
    work_dir = osp.dirname(path)
    refused(
        capsys, lambda: tool('train').main(
            [CONFIG, '--work-dir', work_dir, '--resume', *TINY]))
    assert not marker.exists()


def test_train_resume_path(crafted, capsys, tmp_path, tool):
    path, marker = crafted
    refused(
        capsys, lambda: tool('train').main([
            CONFIG, '--work-dir',
            str(tmp_path / 'w'), '--resume', path, *TINY
        ]))
    assert not marker.exists()


def test_train_load_from(crafted, capsys, tmp_path, tool):
    path, marker = crafted
    refused(
        capsys, lambda: tool('train').main([
            CONFIG, '--work-dir',
            str(tmp_path / 'w'), *TINY, f'load_from={path}'
        ]))
    assert not marker.exists()


def test_test_tool(crafted, capsys, tmp_path, tool):
    path, marker = crafted
    refused(
        capsys, lambda: tool('test').main(
            [CONFIG, path, '--work-dir',
             str(tmp_path / 'w')]))
    assert not marker.exists()


def test_generate_tool(crafted, capsys, tmp_path, tool):
    path, marker = crafted
    shot = osp.join(tmp_path, 'shot.png')
    from PIL import Image
    Image.new('L', (32, 32), 255).save(shot)
    refused(
        capsys, lambda: tool('generate').main([
            CONFIG, path, '--shots', shot, '--num', '2', '--out',
            str(tmp_path / 'out')
        ]))
    assert not marker.exists() and not (tmp_path / 'out').exists()


def test_fewshot_gradio_demo(crafted, capsys):
    spec = importlib.util.spec_from_file_location(
        'fewshot_gradio', osp.join(REPO_ROOT, 'demo', 'fewshot_gradio.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    path, marker = crafted
    err = refused(capsys, lambda: demo.main([CONFIG, path, '--port', '1']))
    assert err.startswith('fewshot_gradio: error: UnsafeCheckpointError')
    assert not marker.exists()


def test_load_meta_model_api(crafted):
    from metagan_mm.apis import load_meta_model
    path, marker = crafted
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        load_meta_model(CONFIG, path)
    assert not marker.exists()


def test_feature_networks(crafted):
    from metagan_mm.evaluation.feature_nets import (DomainFeatureExtractor,
                                                    InceptionFeatureExtractor)
    path, marker = crafted
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        DomainFeatureExtractor(checkpoint=path)
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        InceptionFeatureExtractor(weights=path)
    assert not marker.exists()


def test_train_load_from_url(crafted, capsys, tmp_path, monkeypatch, tool):
    """A crafted file standing in the hub cache for a URL is refused."""
    path, marker = crafted
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    cached = tmp_path / 'hub' / 'checkpoints' / 'resnet18-f37072fd.pth'
    cached.parent.mkdir(parents=True)
    cached.write_bytes(open(path, 'rb').read())
    url = 'https://download.pytorch.org/models/resnet18-f37072fd.pth'
    refused(
        capsys, lambda: tool('train').main([
            CONFIG, '--work-dir',
            str(tmp_path / 'w'), *TINY, f'load_from={url}'
        ]))
    assert not marker.exists()


def test_train_resume_refuses_an_old_format_pickle_and_keeps_it(
        crafted_old_format, capsys, tool):
    path, marker = crafted_old_format  # iter_700.pth in the work dir
    before = open(path, 'rb').read()
    err = refused(
        capsys, lambda: tool('train').main(
            [CONFIG, '--work-dir',
             osp.dirname(path), '--resume', *TINY]))
    assert 'damaged' not in err and 'cannot resume' not in err
    assert not marker.exists()
    assert open(path, 'rb').read() == before


def _good_checkpoint(path):
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from metagan_mm.registry import MODELS
    init_default_scope('mmagic')
    model = MODELS.build(Config.fromfile(CONFIG).model)
    torch.save({'meta': {'iter': 1}, 'state_dict': model.state_dict()}, path)
    return str(path)


def test_trust_checkpoint_does_not_trust_the_feature_net(
        crafted, capsys, tmp_path, monkeypatch, tool):
    """``--trust-checkpoint`` trusts the model checkpoint named, not the
    feature network the metrics load (``METAGAN_FEATURE_NET``)."""
    path, marker = crafted
    good = _good_checkpoint(tmp_path / 'good.pth')
    monkeypatch.setenv('METAGAN_FEATURE_NET', path)
    test = tool('test')
    refused(
        capsys, lambda: test.main([
            CONFIG, good, '--trust-checkpoint', '--work-dir',
            str(tmp_path / 'w')
        ]))
    assert not marker.exists()
    with pytest.raises(SystemExit):  # trusted by its own flag, it runs
        test.main([  # (and is then found not to be a feature network)
            CONFIG, good, '--trust-feature-net', path, '--work-dir',
            str(tmp_path / 'w')
        ])
    assert marker.exists()
    assert 'not a feature network' in capsys.readouterr().err


def test_train_trust_checkpoint_trusts_the_resumed_file(
        crafted, capsys, tmp_path, tool):
    """The opt-in reaches mmengine's loader for the file it names."""
    path, marker = crafted
    with pytest.raises(SystemExit):  # it runs, then has no weights
        tool('train').main([
            CONFIG, '--work-dir',
            str(tmp_path / 'w'), '--resume', path, '--trust-checkpoint', *TINY
        ])
    assert marker.exists()
    assert 'holds no model weights' in capsys.readouterr().err
