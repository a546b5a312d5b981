"""Training the domain feature network with mmengine's Runner: its data set,
model, metric, hook and runner config."""
import math
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from metagan_mm.evaluation.feature_nets import (DomainClassifier,
                                                DomainFeatureExtractor,
                                                SeenClassImageDataset,
                                                feature_net_runner_cfg)
from metagan_mm.evaluation.feature_nets.domain_classifier import random_shift
from metagan_mm.registry import DATASETS, HOOKS, METRICS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NET_CONFIG = osp.join(REPO_ROOT, 'configs', '_base_', 'feature_nets',
                      'domain_classifier_train.py')


def test_seen_class_images_hold_out_and_never_load_unseen(make_glyph_cfg):
    glyph_cfg = make_glyph_cfg
    # asks for the test part: the data set must use the train part
    train = SeenClassImageDataset(glyph_cfg('test'), 'train', 0.25, seed=3)
    heldout = SeenClassImageDataset(glyph_cfg('test'), 'heldout', 0.25, 3)
    unseen = set(DATASETS.build(glyph_cfg('test')).class_names)
    assert train.class_dataset.split_part == 'train'
    assert train.num_classes == 76 and not set(train.class_names) & unseen
    assert not set(train.indices) & set(heldout.indices)
    assert len(train) + len(heldout) == len(train.class_dataset) == 1520
    # 20 images per class: 5 held out of each
    assert torch.bincount(heldout.labels).tolist() == [5] * 76
    item = heldout[0]
    assert item['inputs'].shape == (1, 32, 32)
    assert item['inputs'].dtype == torch.uint8
    assert int(item['data_samples']) == int(heldout.labels[0])
    # the labels are those of the class data set
    idx = heldout.indices[7]
    assert int(heldout.labels[7]) == \
        train.class_dataset.get_data_info(idx)['gt_label']
    again = SeenClassImageDataset(glyph_cfg(), 'heldout', 0.25, seed=3)
    other = SeenClassImageDataset(glyph_cfg(), 'heldout', 0.25, seed=4)
    assert again.indices == heldout.indices != other.indices
    none = SeenClassImageDataset(glyph_cfg(), 'heldout', 0.0)
    assert len(none) == 0


def test_seen_class_images_bad_input(make_glyph_cfg):
    with pytest.raises(ValueError, match='part must be one of'):
        SeenClassImageDataset(make_glyph_cfg(), 'test')
    with pytest.raises(ValueError, match='heldout_fraction'):
        SeenClassImageDataset(make_glyph_cfg(), 'train', 1.0)
    with pytest.raises(ValueError, match='no class split'):
        SeenClassImageDataset(dict(make_glyph_cfg(), split=None))


def test_random_shift_moves_each_image_within_bounds():
    torch.manual_seed(0)
    images = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).view(2, 3, 6, 6)
    assert random_shift(images, 0) is images
    shifted = random_shift(images, 2)
    assert shifted.shape == images.shape
    padded = torch.nn.functional.pad(images, (2, ) * 4, mode='replicate')
    for i in range(2):  # every output is one 6x6 window of its padded image
        windows = [
            padded[i, :, dy:dy + 6, dx:dx + 6] for dy in range(5)
            for dx in range(5)
        ]
        assert any(torch.equal(shifted[i], w) for w in windows)


def tiny_classifier(**kwargs) -> DomainClassifier:
    return DomainClassifier(
        dict(
            type='DomainFeatureExtractor',
            channels=(4, 8),
            feat_dim=8,
            num_classes=3),
        data_preprocessor=dict(
            type='ImgDataPreprocessor', mean=[127.5], std=[127.5]),
        **kwargs)


def test_domain_classifier_modes():
    torch.manual_seed(0)
    model = tiny_classifier()
    inputs = torch.rand(5, 1, 32, 32) * 2 - 1
    labels = torch.tensor([0, 1, 2, 0, 1])
    losses = model(inputs, labels, mode='loss')
    assert losses['loss'].requires_grad and losses['loss'] > 0
    assert 0 <= float(losses['accuracy']) <= 1
    scores = model(inputs, mode='tensor')
    assert scores.shape == (5, 3)
    preds = model(inputs, labels, mode='predict')
    assert [p['gt_label'] for p in preds] == labels.tolist()
    assert [p['pred_label'] for p in preds] == scores.argmax(1).tolist()
    with pytest.raises(ValueError, match='needs the labels'):
        model(inputs, mode='loss')
    with pytest.raises(ValueError, match='unknown mode'):
        model(inputs, labels, mode='logits')


def test_domain_classifier_bad_input():
    with pytest.raises(ValueError, match='num_classes >= 1'):
        DomainClassifier(DomainFeatureExtractor(num_classes=0))
    with pytest.raises(ValueError, match='dropout'):
        tiny_classifier(dropout=1.0)
    with pytest.raises(ValueError, match='shift'):
        tiny_classifier(shift=-1)


def test_classifier_accuracy_metric():
    metric = METRICS.build(dict(type='ClassifierAccuracy'))
    metric.process({}, [
        dict(pred_label=1, gt_label=1),
        dict(pred_label=0, gt_label=2),
        dict(pred_label=2, gt_label=2),
        dict(pred_label=2, gt_label=2)
    ])
    assert metric.evaluate(4) == {'heldout/accuracy': pytest.approx(0.75)}
    assert math.isnan(metric.compute_metrics([])['accuracy'])


def test_save_hook_needs_out():
    with pytest.raises(ValueError, match='out'):
        HOOKS.build(dict(type='SaveFeatureNetHook', out=None))


def test_runner_cfg_is_filled_from_the_class_data_set(tmp_path,
                                                      make_glyph_cfg):
    out = str(tmp_path / 'nets' / 'glyphs.pth')
    cfg = feature_net_runner_cfg(
        NET_CONFIG,
        dict(type='EpisodicDataset', dataset=make_glyph_cfg('test')),
        out,
        iters=7,
        seed=5,
        batch_size=9,
        val_fraction=0.5)
    extractor = cfg.model.extractor
    assert (extractor.num_classes, extractor.in_channels,
            extractor.img_size) == (76, 1, 32)
    assert len(extractor.class_names) == 76
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        data = loader.dataset
        assert data.dataset['split_part'] == 'train'
        assert data.dataset['type'] == 'GlyphDataset'
        assert (data.seed, data.heldout_fraction) == (5, 0.5)
    assert cfg.train_dataloader.dataset.part == 'train'
    assert cfg.val_dataloader.dataset.part == 'heldout'
    assert cfg.train_cfg.max_iters == cfg.param_scheduler.total_steps == 7
    assert cfg.train_dataloader.batch_size == 9 and cfg.randomness.seed == 5
    assert cfg.custom_hooks[0].out == out
    assert cfg.work_dir == str(tmp_path / 'nets' / 'glyphs')
    # the file itself is left as it was
    base = Config.fromfile(NET_CONFIG)
    assert base.train_cfg.max_iters == 400
    assert base.custom_hooks[0].out is None
    with pytest.raises(ValueError, match='iters must be >= 1'):
        feature_net_runner_cfg(NET_CONFIG, make_glyph_cfg(), out, iters=0)
    no_hook = Config.fromfile(NET_CONFIG)
    no_hook.custom_hooks = []
    with pytest.raises(ValueError, match='one SaveFeatureNetHook'):
        feature_net_runner_cfg(no_hook, make_glyph_cfg(), out)


def test_runner_leaves_logs_and_checkpoints(trained_net):
    """The session's network was trained by the Runner: its work dir holds
    the log (with the held-out accuracy) and the runner's checkpoint."""
    work_dir = trained_net['cfg'].work_dir
    assert osp.isfile(osp.join(work_dir, f'iter_{trained_net["iters"]}.pth'))
    logs = [
        osp.join(root, name) for root, _, names in os.walk(work_dir)
        for name in names if name.endswith('.log')
    ]
    assert len(logs) == 1
    with open(logs[0], encoding='utf-8') as f:
        text = f.read()
    assert 'heldout/accuracy' in text and 'held-out' in text
    state = torch.load(trained_net['path'], weights_only=True)
    assert f'held-out {state["val_accuracy"]:.3f}' in text


def test_cli_names_a_missing_net_config(tmp_path, tool, capsys):
    config = osp.join(
        REPO_ROOT, 'configs', 'reptile',
        'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')
    missing = str(tmp_path / 'net.py')
    with pytest.raises(SystemExit) as err:
        tool('train_feature_extractor').main([config, '--net-config', missing])
    assert err.value.code == 1
    message = capsys.readouterr().err
    assert f'net config file {missing} does not exist' in message
    assert 'domain_classifier_train.py' in message
