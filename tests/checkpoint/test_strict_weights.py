"""Weights load strictly: no silent random weights, EMA by choice."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from metagan_mm.apis import load_meta_model
from metagan_mm.checkpoint import CheckpointMismatchError, load_model_weights
from metagan_mm.registry import MODELS

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs', 'reptile',
                  'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')
EMA = dict(type='ExponentialMovingAverage', interval=1, momentum=0.5)


def build(**model_options):
    cfg = Config.fromfile(CONFIG)
    cfg.model.update(model_options)
    init_default_scope('mmagic')
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def save(model, path):
    torch.save({'meta': {'iter': 1}, 'state_dict': model.state_dict()}, path)
    return str(path)


def test_checkpoint_of_the_same_config_loads_every_weight(tmp_path):
    trained = build()
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(1.0)
    path = save(trained, tmp_path / 'iter_1.pth')
    lines = []
    model = load_meta_model(CONFIG, path, log=lines.append)
    for key, value in trained.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert lines == [f'loaded {path}: generator = meta-weights']


def test_checkpoint_without_weights_is_an_error(tmp_path):
    path = tmp_path / 'empty.pth'
    torch.save({'meta': {'iter': 600}, 'state_dict': {}}, path)
    with pytest.raises(
            CheckpointMismatchError, match='holds no model '
            'weights'):
        load_meta_model(CONFIG, str(path))


def test_generate_refuses_a_checkpoint_without_weights(tmp_path, capsys, tool):
    path = tmp_path / 'empty.pth'
    torch.save({'state_dict': {}}, path)
    shot = str(tmp_path / 'shot.png')
    from PIL import Image
    Image.new('L', (32, 32), 255).save(shot)
    with pytest.raises(SystemExit) as info:
        tool('generate').main([
            CONFIG,
            str(path), '--shots', shot, '--num', '2', '--out',
            str(tmp_path / 'out')
        ])
    assert info.value.code == 1
    assert 'holds no model weights' in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


def test_checkpoint_of_another_config_names_the_keys(tmp_path):
    other = build(
        generator=dict(base_channels=8), discriminator=dict(base_channels=8))
    path = save(other, tmp_path / 'other.pth')
    with pytest.raises(CheckpointMismatchError) as info:
        load_meta_model(CONFIG, path)
    message = str(info.value)
    assert 'other shapes' in message and 'different runs' in message
    mine, theirs = build().state_dict(), other.state_dict()
    key = sorted(k for k in mine if mine[k].shape != theirs[k].shape)[0]
    assert (f'{key} {tuple(theirs[key].shape)} vs {tuple(mine[key].shape)}'
            in message)


def test_missing_and_unexpected_keys_are_named(tmp_path):
    model = build()
    state = model.state_dict()
    dropped = next(iter(state))
    del state[dropped]
    state['generator.extra.weight'] = torch.zeros(1)
    path = tmp_path / 'edited.pth'
    torch.save({'state_dict': state}, path)
    with pytest.raises(CheckpointMismatchError) as info:
        load_model_weights(build(), str(path))
    message = str(info.value)
    assert f'missing from it: {dropped}' in message
    assert 'not in the model: generator.extra.weight' in message


def test_ema_weights_only_when_asked(tmp_path):
    trained = build(ema_config=EMA)
    with torch.no_grad():
        for p in trained.generator_ema.module.parameters():
            p.fill_(0.25)
    path = save(trained, tmp_path / 'ema.pth')
    lines = []
    meta = build(ema_config=EMA)
    load_model_weights(meta, path, log=lines.append)
    assert 'meta-weights (the checkpoint also has EMA weights' in lines[0]
    for name, p in meta.generator.named_parameters():
        assert torch.equal(p, trained.generator.state_dict()[name])
    ema = build(ema_config=EMA)
    load_model_weights(ema, path, use_ema=True, log=lines.append)
    assert lines[1].endswith('generator = EMA weights (generator_ema)')
    for p in ema.generator.parameters():
        assert torch.equal(p, torch.full_like(p, 0.25))
    plain = save(build(), tmp_path / 'plain.pth')
    with pytest.raises(CheckpointMismatchError, match='has none'):
        load_model_weights(build(), plain, use_ema=True)
