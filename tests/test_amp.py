"""``--amp`` end to end: the config key it sets, training and few-shot
generation under autocast, the fp16 loss scale in checkpoints, resume."""
import pytest
import torch
from meta_gan_helpers import message_hub  # noqa: F401
from meta_gan_helpers import batch, build, model_cfg, optim, params
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from PIL import Image
from training_helpers import (CONFIG, assert_same_weights, stopped_at, train,
                              train_in_process, weights)

from metagan_mm.apis import load_meta_model
from metagan_mm.core.amp import Amp
from metagan_mm.models.meta_gan import LOSS_SCALER_KEY
from metagan_mm.registry import MODELS
from metagan_mm.utils.runner_setup import enable_amp


def test_amp_flag_sets_the_inner_loop_key_of_meta_gans_only():
    cfg = Config.fromfile(CONFIG)
    enable_amp(cfg)
    assert cfg.model.inner_loop.amp == dict(dtype='auto')
    assert 'type' not in cfg.optim_wrapper.generator  # fp32 outer steps
    cfg = Config.fromfile(CONFIG)
    cfg.model.inner_loop.amp = dict(dtype='float16')
    enable_amp(cfg)  # the config's own setting wins
    assert cfg.model.inner_loop.amp == dict(dtype='float16')
    other = Config(
        dict(
            model=dict(type='DCGAN'),
            optim_wrapper=dict(
                generator=dict(optimizer=dict(type='Adam')),
                discriminator=dict(optimizer=dict(type='Adam')))))
    enable_amp(other)  # any other model: mmagic's meaning
    assert other.optim_wrapper.generator.type == 'AmpOptimWrapper'
    assert 'inner_loop' not in other.model


def _train_step(amp, seed=0, type_='MAMLGAN'):
    cfg = model_cfg(type_, num_support=2) if type_ == 'MAMLGAN' \
        else model_cfg(type_)
    cfg['inner_loop'] = dict(cfg['inner_loop'], amp=amp)
    model = build(cfg)
    model.train_step(batch(seed=seed, k_shot=2), optim(model, lr=1.0))
    return model


def test_train_step_under_bf16_is_close_to_fp32_and_finite():
    """Reptile on 32x32 FIGR nets (4 base channels), random data: measured,
    the bf16 update of G differs from fp32's by 9.8% of its largest
    component (second-order MAML: 25%; see docs/user_guides/
    mixed_precision.md)."""
    ref = params(_train_step(None, type_='ReptileGAN').generator)
    amp = params(
        _train_step(dict(dtype='bfloat16'), type_='ReptileGAN').generator)
    init = params(build(model_cfg()).generator)
    worst = max(float((amp[k] - ref[k]).abs().max()) for k in ref)
    step = max(float((ref[k] - init[k]).abs().max()) for k in ref)
    assert all(v.isfinite().all() for v in amp.values())
    assert 0 < worst < 0.2 * step, (worst, step)


def test_fp16_loss_scale_lives_in_the_message_hub():
    hub = MessageHub.get_current_instance()
    hub.runtime_info.pop(LOSS_SCALER_KEY, None)
    _train_step(dict(dtype='bfloat16'))  # bf16 is not scaled
    assert hub.get_info(LOSS_SCALER_KEY) is None
    model = _train_step(
        dict(dtype='float16', init_scale=64.0, growth_interval=1),
        type_='ReptileGAN')
    assert hub.get_info(LOSS_SCALER_KEY) == {'scale': 128.0, 'good_steps': 0}
    # a resumed run restores it from the hub before its first step
    hub.update_info(LOSS_SCALER_KEY, {'scale': 8.0, 'good_steps': 0})
    model.train_step(batch(seed=1), optim(model))
    assert model.inner_loop.scaler.scale == 16.0


def test_generation_under_amp_and_fp16_overflow_is_an_error():
    support = torch.rand(3, 1, 32, 32) * 2 - 1
    ref = build(model_cfg()).generate_adapted(support, 4, seed=0)
    cfg = model_cfg()
    cfg['inner_loop'] = dict(cfg['inner_loop'], amp=dict(dtype='bfloat16'))
    out = build(cfg).generate_adapted(support, 4, seed=0)
    assert out.dtype == torch.float32 and out.shape == ref.shape
    worst = float((out - ref).abs().max())
    assert 0 < worst < 0.25, worst  # measured: 0.11 (pixels in [-1, 1])
    cfg['inner_loop']['amp'] = dict(dtype='float16', init_scale=2.0**40)
    with pytest.raises(FloatingPointError, match='at float16 loss scale'):
        build(cfg).generate_adapted(support, 4, seed=0)


def test_generate_tool_amp_flag(tmp_path, tool):
    cfg = Config.fromfile(CONFIG)
    init_default_scope('mmagic')
    model = MODELS.build(cfg.model)
    path = str(tmp_path / 'iter_1.pth')
    torch.save({'meta': {'iter': 1}, 'state_dict': model.state_dict()}, path)
    loaded = load_meta_model(CONFIG, path, amp=True, log=lambda line: None)
    assert loaded.inner_loop.cfg.amp == Amp(dtype='auto')
    shot = str(tmp_path / 'shot.png')
    Image.new('L', (32, 32), 255).save(shot)
    out = tmp_path / 'out'
    tool('generate').main([
        CONFIG, path, '--shots', shot, '--num', '2', '--steps', '1', '--out',
        str(out), '--amp'
    ])
    assert sorted(p.name for p in out.iterdir()) == [
        'generated_0000.png', 'generated_0001.png', 'grid.png'
    ]


@pytest.mark.slow
def test_short_training_under_amp_stays_finite(tmp_path):
    _, model, runner = train_in_process(
        CONFIG, tmp_path, {
            'model.inner_loop.steps': 2,
            'model.inner_loop.amp': dict(dtype='bfloat16'),
            'train_cfg.max_iters': 3,
            'custom_hooks': [],
            'default_hooks.checkpoint.interval': 3
        })
    assert all(p.isfinite().all() for p in model.parameters())
    scalars = runner.message_hub.log_scalars
    assert float(scalars['train/tasks_skipped'].current()) == 0
    assert torch.isfinite(
        torch.tensor(scalars['train/loss_inner_d_loss_last'].current()))


@pytest.mark.slow
def test_resume_under_amp_is_exact(tmp_path):
    """fp16 (the CPU runs it too), the loss scale changing every iteration
    (doubling, or halving with a rerun on overflow): the resumed run
    restores it from the checkpoint and ends bitwise equal."""
    amp = [
        'model.inner_loop.amp.dtype=float16',
        'model.inner_loop.amp.growth_interval=1', '--amp'
    ]
    train(tmp_path / 'full', *amp, max_iters=4)  # checkpoints at 2 and 4
    stopped_at(tmp_path / 'full', 2, tmp_path / 'cut')
    train(tmp_path / 'cut', *amp, max_iters=4, resume=True)
    full, full_w = weights(tmp_path / 'full' / 'iter_4.pth')
    cut, cut_w = weights(tmp_path / 'cut' / 'iter_4.pth')
    assert_same_weights(full_w, cut_w, atol=0)
    states = [
        c['message_hub']['runtime_info'][LOSS_SCALER_KEY] for c in (full, cut)
    ]
    assert states[0] == states[1]
    assert states[0]['scale'] != 256.0  # it changed: grew, or backed off
