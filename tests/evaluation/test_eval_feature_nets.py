"""Feature networks: training on seen classes only, offline weight files."""
import os.path as osp

import pytest
import torch

from metagan_mm.checkpoint import UnsafeCheckpointError
from metagan_mm.evaluation.feature_nets import (DomainFeatureExtractor,
                                                InceptionFeatureExtractor,
                                                build_train_dataset)
from metagan_mm.registry import DATASETS, METRICS, MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_trainer_sees_meta_training_classes_only(trained_net, make_glyph_cfg):
    glyph_cfg = make_glyph_cfg
    state = torch.load(trained_net['path'], weights_only=True)
    test_names = set(DATASETS.build(glyph_cfg('test')).class_names)
    train_names = set(DATASETS.build(glyph_cfg('train')).class_names)
    assert state['split_part'] == 'train'
    assert set(state['class_names']) == train_names
    assert not set(state['class_names']) & test_names
    assert set(state['excluded_classes']) == test_names
    # the fixture asked for split_part='test'; every data set the trainer
    # built was the train part
    assert trained_net['built']
    assert all(cfg['split_part'] == 'train' for cfg in trained_net['built'])
    assert state['iters'] == trained_net['iters']
    assert state['val_accuracy'] > 0.5  # chance is 1/76


def test_build_train_dataset_forces_train_part(make_glyph_cfg):
    glyph_cfg = make_glyph_cfg
    dataset = build_train_dataset(glyph_cfg('test'))
    assert dataset.split_part == 'train'
    with pytest.raises(ValueError, match='no class split'):
        build_train_dataset(dict(glyph_cfg(), split=None))


def test_domain_extractor_from_checkpoint(feature_net_cfg, unseen_classes):
    net = MODELS.build(feature_net_cfg)
    assert net.is_pretrained and not net.training
    # calibrated scale: mean |f|^2 / D is 1 on the training images, O(1) on
    # unseen images of the same domain
    refs = torch.cat([item['reference'] for item in unseen_classes])
    with torch.no_grad():
        energy = float(net(refs).pow(2).sum(1).mean() / net.feat_dim)
    assert float(net.feature_scale) != 1.0 and 0.3 < energy < 3
    images = torch.rand(3, 1, 32, 32) * 2 - 1
    feats = net(images)
    assert feats.shape == (3, net.feat_dim)
    layers = net.multi_layer_features(images)
    assert [layer.shape[-1] for layer in layers] == [32, 16, 8]
    assert net(torch.rand(2, 1, 64, 64)).shape == (2, net.feat_dim)


def test_missing_domain_checkpoint_message(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(
            FileNotFoundError,
            match='tools/train_feature_extractor.py CONFIG'):
        MODELS.build(dict(type='DomainFeatureExtractor', checkpoint=path))
    with pytest.raises(
            FileNotFoundError,
            match='tools/train_feature_extractor.py CONFIG'):
        METRICS.build(
            dict(
                type='FewShotFID',
                feature_net=dict(
                    type='DomainFeatureExtractor', checkpoint=path)))
    with pytest.raises(FileNotFoundError, match='no trained weights'):
        METRICS.build(
            dict(type='FewShotKID', feature_net=DomainFeatureExtractor()))


@pytest.fixture
def no_downloads(monkeypatch):
    """Make every download path raise."""
    import urllib.request

    import torch.hub
    import torch.utils.model_zoo

    def refuse(*args, **kwargs):
        raise AssertionError(f'attempted download: {args}')

    monkeypatch.setattr(torch.hub, 'load_state_dict_from_url', refuse)
    monkeypatch.setattr(torch.hub, 'download_url_to_file', refuse)
    monkeypatch.setattr(torch.utils.model_zoo, 'load_url', refuse)
    monkeypatch.setattr(urllib.request, 'urlopen', refuse)
    monkeypatch.setattr(urllib.request, 'urlretrieve', refuse)
    import mmagic.evaluation.functional.inception_utils as utils
    monkeypatch.setattr(utils, 'download_from_url', refuse)


@pytest.mark.parametrize('weights', [None, 'missing/pt_inception.pth'])
def test_inception_never_downloads(no_downloads, weights):
    with pytest.raises(FileNotFoundError) as err:
        MODELS.build(dict(type='InceptionFeatureExtractor', weights=weights))
    message = str(err.value)
    assert 'pt_inception-2015-12-05' in message
    assert 'inception_v3_google' in message and 'weights=' in message
    with pytest.raises(FileNotFoundError):
        METRICS.build(
            dict(
                type='FewShotFID',
                feature_net=dict(
                    type='InceptionFeatureExtractor', weights=weights)))


@pytest.mark.parametrize('style', ['torchvision', 'pytorch_fid'])
def test_inception_loads_local_state_dict(no_downloads, tmp_path, style):
    """Random weights in both file layouts load without any download."""
    from metagan_mm.evaluation.feature_nets import \
        inception_feature_extractor as mod
    torch.manual_seed(0)
    skeleton = mod._build_inception(style)
    path = str(tmp_path / f'{style}.pth')
    torch.save(skeleton.state_dict(), path)
    net = InceptionFeatureExtractor(weights=path)
    assert net.style == style
    images = torch.rand(2, 1, 20, 20) * 2 - 1  # grayscale, small
    feats = net(images)
    assert feats.shape == (2, 2048) and torch.isfinite(feats).all()
    layers = net.multi_layer_features(images)
    assert len(layers) == 4 and layers[-1].shape == (2, 2048, 1, 1)
    assert torch.allclose(layers[-1].flatten(1), feats)


@pytest.mark.slow
def test_cli_trains_and_saves(tmp_path, make_glyph_cfg, tool):
    glyph_cfg = make_glyph_cfg
    tool = tool('train_feature_extractor')
    out = str(tmp_path / 'cli.pth')
    config = osp.join(
        REPO_ROOT, 'configs', 'reptile',
        'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')
    assert tool.main([config, '--out', out, '--iters', '2']) == out
    state = torch.load(out, weights_only=True)
    assert state['split_part'] == 'train' and state['iters'] == 2
    test_names = set(DATASETS.build(glyph_cfg('test')).class_names)
    assert not set(state['class_names']) & test_names
    assert len(state['class_names']) == 76


@pytest.mark.filterwarnings('ignore::FutureWarning')
def test_inception_torchscript_file(no_downloads, tmp_path):
    """A TorchScript file (StyleGAN's format) is detected and fed uint8."""

    class Tiny(torch.nn.Module):

        def forward(self,
                    x: torch.Tensor,
                    return_features: bool = False) -> torch.Tensor:
            assert x.dtype == torch.uint8
            return x.float().mean(dim=(1, 2, 3))[:, None].repeat(1, 2048)

    path = str(tmp_path / 'inception-2015-12-05.pt')
    torch.jit.script(Tiny()).save(path)
    with pytest.raises(UnsafeCheckpointError, match='TorchScript file'):
        InceptionFeatureExtractor(weights=path)  # its code would run
    net = InceptionFeatureExtractor(weights=path, trust=True)
    assert net.style == 'torchscript'
    feats = net(torch.full((2, 1, 8, 8), 1.0))
    assert feats.shape == (2, 2048)
    assert float(feats[0, 0]) == pytest.approx(255.0, rel=1e-6)
    with pytest.raises(NotImplementedError):
        net.multi_layer_features(torch.zeros(1, 3, 8, 8))


@pytest.mark.slow
def test_cli_on_real_omniglot(tmp_path, monkeypatch, omniglot_root, tool):
    """Omniglot config: the network never loads the unseen alphabets."""
    tool = tool('train_feature_extractor')
    monkeypatch.setenv('METAGAN_OMNIGLOT', omniglot_root)
    loaded = []
    from metagan_mm.datasets import OmniglotDataset
    prepare = OmniglotDataset.prepare_data

    def spy(self, idx):
        loaded.append(self.get_data_info(idx)['class_name'])
        return prepare(self, idx)

    monkeypatch.setattr(OmniglotDataset, 'prepare_data', spy)
    out = str(tmp_path / 'omniglot.pth')
    config = osp.join(REPO_ROOT, 'configs', 'reptile',
                      'reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py')
    tool.main([config, '--out', out, '--iters', '1', '--batch-size', '8'])
    state = torch.load(out, weights_only=True)
    unseen = ('Tagalog/', 'Early_Aramaic/')
    assert loaded and not any(n.startswith(unseen) for n in loaded)
    assert not any(n.startswith(unseen) for n in state['class_names'])
    assert state['excluded_classes'] and all(
        n.startswith(unseen) for n in state['excluded_classes'])
    assert state['split_part'] == 'train'


def test_metrics_reuse_a_network_only_for_the_same_unchanged_file(
        trained_net, tmp_path, monkeypatch):
    """A relative checkpoint path read from another folder, or a file
    trained again, gives a new network, not the cached one."""
    import os
    import shutil

    from metagan_mm.evaluation.metrics import build_feature_net
    for folder in ('a', 'b'):
        (tmp_path / folder).mkdir()
        shutil.copy(trained_net['path'], tmp_path / folder / 'net.pth')
    cfg = dict(type='DomainFeatureExtractor', checkpoint='net.pth')
    monkeypatch.chdir(tmp_path / 'a')
    first = build_feature_net(cfg)
    assert build_feature_net(cfg) is first
    monkeypatch.chdir(tmp_path / 'b')
    other = build_feature_net(cfg)
    assert other is not first
    stat = os.stat('net.pth')
    os.utime('net.pth', ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert build_feature_net(cfg) is not other
