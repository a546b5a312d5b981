"""The OpenMMLab meta-GAN models: updates, rates, failures, adaptation."""
import copy

import pytest
import torch
from meta_gan_helpers import message_hub  # noqa: F401
from meta_gan_helpers import NZ, batch, build, model_cfg, optim, params

from metagan_mm.core import Task, TaskRunner
from metagan_mm.core.params import index_dict
from metagan_mm.models import MetaTrainingError


def test_reptile_step_is_mean_of_adapted_weights():
    model = build(model_cfg())
    data = batch()
    before_g = params(model.generator)
    tasks = model.data_preprocessor(copy.deepcopy(data), True)['inputs']
    rand = model.sample_task_randomness([0, 1], 4)
    ends = [
        model.inner_loop.adapt(Task(tasks[t]), index_dict(rand['inner'], t))
        for t in range(2)
    ]
    expected = {
        k:
        (ends[0].params['generator'][k] + ends[1].params['generator'][k]) / 2
        for k in before_g
    }
    model.train_step(data, optim(model, lr=1.0))  # theta - 1*(theta - mean)
    after_g = params(model.generator)
    for name in before_g:
        torch.testing.assert_close(
            after_g[name], expected[name], rtol=0, atol=1e-5)
    assert any(not torch.equal(before_g[k], after_g[k]) for k in before_g)


def test_adaptation_and_generation_leave_meta_weights_untouched():
    model = build(model_cfg())
    before = params(model)
    support = torch.rand(4, 1, 32, 32) * 2 - 1
    out = model.generate_adapted(support, num=6, seed=3)
    again = model.generate_adapted(support, num=6, seed=3)
    assert out.shape == (6, 1, 32, 32)
    assert float(out.abs().max()) <= 1.0
    torch.testing.assert_close(out, again, rtol=0, atol=0)  # repeatable
    for name, value in params(model).items():
        assert torch.equal(value, before[name]), name
    unadapted = model.generate_adapted(support, num=6, steps=0, seed=3)
    assert not torch.allclose(unadapted, out)


def test_nan_tasks_are_skipped_counted_and_stop_training_over_the_limit():
    model = build(model_cfg(max_failed_fraction=0.5))
    data = batch(num_tasks=4)
    before = params(model)
    bad = model.data_preprocessor.forward

    def poisoned(data, training=False):
        out = bad(data, training)
        out['inputs'][0] = float('nan')
        return out

    model.data_preprocessor.forward = poisoned
    logs = model.train_step(data, optim(model, lr=0.1))
    assert float(logs['tasks_skipped']) == 1.0
    assert all(torch.isfinite(p).all() for p in model.parameters())

    def poison_three(data, training=False):
        out = bad(data, training)
        out['inputs'][:3] = float('nan')
        return out

    model.data_preprocessor.forward = poison_three
    updated = params(model)
    with pytest.raises(MetaTrainingError, match='3 of 4 tasks had non-fin'):
        model.train_step(data, optim(model, lr=0.1))
    for name, value in params(model).items():  # not updated
        assert torch.equal(value, updated[name])
    assert any(not torch.equal(before[k], updated[k]) for k in before)


def test_meta_sgd_rates_change_are_saved_and_restored():
    cfg = model_cfg(
        'MetaSGDGAN', num_support=2, first_order=True, min_lr=0.001)
    model = build(cfg)
    g_rates = model.algorithm.adaptation_rates()['generator']
    initial = {k: v.clone() for k, v in g_rates.items()}
    opt = optim(
        model, lr=0.01, names=('generator', 'discriminator', 'inner_rates'))
    logs = model.train_step(batch(k_shot=2), opt)
    assert {'inner_lr_g_mean', 'inner_lr_d_min'} <= set(logs)
    g_rates = model.algorithm.adaptation_rates()['generator']
    assert any(not torch.equal(initial[k], g_rates[k]) for k in initial)
    state = model.state_dict()
    assert any(k.startswith('inner_rates.g.') for k in state)
    fresh = build(cfg)
    fresh.load_state_dict(state)
    for key, value in fresh.algorithm.adaptation_rates()['generator'].items():
        assert torch.equal(value, g_rates[key])


def test_meta_sgd_clamps_negative_and_stops_on_non_finite_rates():
    model = build(
        model_cfg('MetaSGDGAN', num_support=2, first_order=True, min_lr=0.001))
    opt = optim(
        model, lr=0.01, names=('generator', 'discriminator', 'inner_rates'))
    with torch.no_grad():
        next(iter(model.inner_rates.g.values())).fill_(-1.0)
    model.train_step(batch(k_shot=2), opt)
    assert float(next(iter(
        model.inner_rates.g.values())).detach().min()) >= 0.001
    with torch.no_grad():
        next(iter(model.inner_rates.d.values()))[..., 0] = float('inf')
    with pytest.raises(MetaTrainingError, match='non-finite learning rates'):
        model.train_step(batch(k_shot=2), opt)


def test_meta_sgd_without_rate_optimizer_says_how_to_fix():
    model = build(model_cfg('MetaSGDGAN', num_support=2, first_order=True))
    with pytest.raises(KeyError, match="optim_wrapper has no 'inner_rates'"):
        model.train_step(batch(k_shot=2), optim(model))


def test_maml_checks_support_size_against_the_data():
    model = build(model_cfg('MAMLGAN', num_support=2, first_order=True))
    with pytest.raises(
            ValueError,
            match='k_shot=3 support images but model.num_support=2'):
        model.train_step(batch(k_shot=3), optim(model))


@pytest.mark.parametrize('key, value, message', [
    ('g_lr', 0.0, 'g_lr=0.0 is invalid'),
    ('steps', 0, 'steps=0 is invalid'),
])
def test_bad_inner_loop_settings_fail_at_build(key, value, message):
    cfg = model_cfg()
    cfg['inner_loop'][key] = value
    with pytest.raises(ValueError, match=message):
        build(cfg)


def test_mismatched_generator_and_discriminator_fail_at_build():
    cfg = model_cfg()
    cfg['discriminator']['in_scale'] = 64
    with pytest.raises(ValueError) as info:
        build(cfg)
    assert '32' in str(info.value) and '64' in str(info.value)


def test_batchnorm_nets_from_mmagic_adapt_sequentially():
    cfg = model_cfg(
        generator=dict(
            type='DCGANGenerator',
            output_scale=32,
            out_channels=1,
            noise_size=NZ,
            base_channels=16),
        discriminator=dict(
            type='DCGANDiscriminator',
            input_scale=32,
            output_scale=4,
            out_channels=1,
            in_channels=1,
            base_channels=16))
    cfg['inner_loop']['batching'] = dict(mode='vmap')  # BatchNorm: loop
    model = build(cfg)
    buffers = {k: v.clone() for k, v in model.generator.named_buffers()}
    with pytest.warns(RuntimeWarning):
        logs = model.train_step(batch(), optim(model, lr=0.1))
    assert float(logs['tasks_skipped']) == 0.0
    changed = [
        k for k, v in model.generator.named_buffers()
        if v.is_floating_point() and not torch.equal(v, buffers[k])
    ]
    assert changed  # running stats set to the mean over tasks


def test_amp_loss_scale_is_compensated_before_the_wrapper_unscales():
    model = build(model_cfg())

    class Scaler:

        def get_scale(self):
            return 8.0

    class AmpLikeWrapper:  # unscales like GradScaler.step, then records
        loss_scaler = Scaler()

        def step(self):
            self.seen = [p.grad / 8.0 for p in model.generator.parameters()]

        def zero_grad(self):
            pass

    grads = [torch.full_like(p, 0.5) for p in model.generator.parameters()]
    for p, g in zip(model.generator.parameters(), grads):
        p.grad = g.clone()
    wrapper = AmpLikeWrapper()
    model._step(wrapper, model.generator)
    for seen, grad in zip(wrapper.seen, grads):
        assert torch.equal(seen, grad)


@pytest.mark.parametrize('checkpoint_fits', [True, False])
def test_second_order_maml_on_oom_checkpoints_then_goes_first_order(
        monkeypatch, checkpoint_fits):
    model = build(model_cfg('MAMLGAN', num_support=2, first_order=False))
    first_cfg = model.inner_loop.cfg
    assert first_cfg.grad_checkpoint is False
    calls = []
    original = TaskRunner.run

    def fail_second_order(runner, *args, **kwargs):
        driver = model.driver
        calls.append((driver.first_order, driver.inner.cfg.grad_checkpoint))
        if not driver.first_order and not (checkpoint_fits and
                                           driver.inner.cfg.grad_checkpoint):
            raise torch.OutOfMemoryError('CUDA out of memory (simulated)')
        return original(runner, *args, **kwargs)

    monkeypatch.setattr(TaskRunner, 'run', fail_second_order)
    logs = model.train_step(batch(k_shot=2), optim(model, lr=0.01))
    if checkpoint_fits:
        assert calls == [(False, False), (False, True)]
        assert not model.driver.first_order
    else:
        assert calls == [(False, False), (False, True), (True, True)]
        assert model.driver.first_order
    # the fallback is the driver's: the algorithm and model config stay
    assert model.algorithm.first_order is False
    assert model.driver.inner.cfg.grad_checkpoint is True
    assert model.inner_loop.cfg is first_cfg
    assert first_cfg.grad_checkpoint is False  # a new config, not mutated
    assert float(logs['tasks_skipped']) == 0.0
    model = build(
        model_cfg(
            'MAMLGAN', num_support=2, first_order=False, oom_fallback=False))
    calls.clear()
    with pytest.raises(
            MetaTrainingError, match='grad_checkpoint=True.*first_order=True'):
        model.train_step(batch(k_shot=2), optim(model, lr=0.01))
    assert calls == [(False, False)]


def test_batching_auto_vmaps_small_nets_on_cpu_and_bad_values_fail():
    small = build(model_cfg()).inner_loop.runner  # base_channels=4
    assert small.num_params() < 1_000_000
    assert small.use_vmap('cpu') is True
    cfg = model_cfg()
    cfg['generator']['base_channels'] = 64  # FIGR's width: >1M parameters
    cfg['discriminator']['base_channels'] = 64
    large = build(cfg).inner_loop.runner
    assert large.num_params() > 1_000_000
    assert large.use_vmap('cpu') is False
    assert large.use_vmap('cuda') is True
    cfg['inner_loop']['batching'] = dict(mode='vmap')
    assert build(cfg).inner_loop.runner.use_vmap('cpu') is True
    bad = model_cfg()
    bad['inner_loop']['batching'] = dict(mode='yes')
    with pytest.raises(ValueError, match="batching.mode='yes' is invalid"):
        build(bad)


@pytest.mark.parametrize('old, value, new', [
    ('batched', True, r"model.inner_loop.batching=dict\(mode="),
    ('inner_loop.vmap', False, r"model.inner_loop.batching=dict\(mode="),
    ('inner_loop.vmap_chunk_size', 8,
     r"model.inner_loop.batching=dict\(chunk="),
])
def test_old_batching_keys_name_the_new_one(old, value, new):
    cfg = model_cfg()
    if old.startswith('inner_loop.'):
        cfg['inner_loop'][old.split('.')[1]] = value
    else:
        cfg[old] = value
    with pytest.raises(KeyError, match=f'model.{old} was replaced: use {new}'):
        build(cfg)


def test_accumulative_counts_is_refused_with_the_fix():
    model = build(model_cfg())
    before = params(model)
    opt = optim(model)
    opt['generator']._accumulative_counts = 2
    with pytest.raises(
            ValueError,
            match=r'optim_wrapper.generator.accumulative_counts=2 is not '
            r'supported by ReptileGAN.*train_dataloader.batch_size'):
        model.train_step(batch(), opt)
    for name, value in params(model).items():
        assert torch.equal(value, before[name]), name


def test_meta_gan_takes_any_registered_algorithm_by_name():
    named = build(model_cfg('MAMLGAN', num_support=2, first_order=True))
    generic = build(
        model_cfg(
            'MetaGAN',
            algorithm=dict(type='MAML', num_support=2, first_order=True)))
    assert type(generic.algorithm) is type(named.algorithm)
    assert generic.algorithm.num_support == 2
    logs = [
        m.train_step(batch(k_shot=2), optim(m, lr=0.1))
        for m in (named, generic)
    ]
    for key in ('loss_outer_d_loss', 'loss_inner_g_loss_last'):
        torch.testing.assert_close(logs[0][key], logs[1][key])
    for key, value in params(named).items():
        torch.testing.assert_close(value, params(generic)[key])


@pytest.mark.parametrize('cfg, error, message', [
    (dict(algorithm=dict(type='Nope')), KeyError,
     r"model.algorithm type 'Nope' is not a registered.*'MAML'"),
    (dict(), ValueError, r"MetaGAN needs model.algorithm=dict\(type="),
    (dict(algorithm=dict(type='MAML', num_support=2),
          num_support=2), TypeError, r"unexpected settings \['num_support'\]"),
    (dict(algorithm=dict(type='MAML', num_support=2, typo=1)), TypeError,
     r'bad options for the algorithm MAML.*typo'),
])
def test_bad_algorithm_settings_name_the_problem(cfg, error, message):
    with pytest.raises(error, match=message):
        build(model_cfg('MetaGAN', **cfg))
    with pytest.raises(TypeError, match='ReptileGAN trains Reptile'):
        build(model_cfg(algorithm=dict(type='MAML', num_support=2)))
