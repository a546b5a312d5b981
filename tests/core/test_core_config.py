"""InnerLoopConfig validation."""
import pytest

from metagan_mm.core import Batching, InnerLoopConfig


@pytest.mark.parametrize('kwargs, key, hint', [
    (dict(g_lr=0.0), 'g_lr', '> 0'),
    (dict(d_lr=-1e-3), 'd_lr', '> 0'),
    (dict(g_lr=float('nan')), 'g_lr', 'finite'),
    (dict(steps=0), 'steps', '>= 1'),
    (dict(steps=2.5), 'steps', 'int'),
    (dict(optimizer='rmsprop'), 'optimizer', "'sgd'"),
    (dict(betas=(0.9, 1.0)), 'betas', '[0, 1)'),
    (dict(eps=0), 'eps', '> 0'),
    (dict(d_steps_per_g_step=0), 'd_steps_per_g_step', '>= 1'),
    (dict(loss='lsgan'), 'loss', 'wgan-gp'),
    (dict(gp_weight=-1.0), 'gp_weight', '>= 0'),
])
def test_bad_config_names_key_and_fix(kwargs, key, hint):
    with pytest.raises(ValueError) as info:
        InnerLoopConfig(**kwargs)
    msg = str(info.value)
    assert f'InnerLoopConfig.{key}=' in msg
    assert hint in msg
    assert 'Fix:' in msg


def test_good_config_defaults():
    cfg = InnerLoopConfig(steps=3, optimizer='sgd', betas=[0.0, 0.99])
    assert cfg.betas == (0.0, 0.99)
    assert cfg.batching == Batching(mode='auto', chunk='auto')
    assert cfg.gp_weight == 10.0 and cfg.loss == 'wgan-gp'
    cfg = InnerLoopConfig.from_dict(dict(batching=dict(mode='loop', chunk=4)))
    assert cfg.batching == Batching(mode='loop', chunk=4)


@pytest.mark.parametrize('key, value, new', [
    ('vmap', False, r"inner_loop.batching=dict\(mode='vmap'\|'loop'"),
    ('vmap_chunk_size', 8, r"inner_loop.batching=dict\(chunk="),
    ('create_graph', True, 'first_order'),
])
def test_old_keys_name_the_new_setting(key, value, new):
    with pytest.raises(
            KeyError,
            match=f'model.inner_loop.{key} was '
            f'replaced: use model.{new}'):
        InnerLoopConfig.from_dict({key: value})


def test_unknown_keys_name_close_ones():
    with pytest.raises(
            KeyError, match="no setting 'stepz'.*Did you mean "
            "'steps'"):
        InnerLoopConfig.from_dict({'stepz': 3})
    with pytest.raises(KeyError, match=r"batching has no setting \['size'\]"):
        InnerLoopConfig.from_dict({'batching': {'size': 3}})


def test_conditioning_settings_are_checked_and_encoder_rate_defaults():
    assert InnerLoopConfig(g_lr=3e-4).lr('encoder') == 3e-4
    assert InnerLoopConfig(g_lr=3e-4, e_lr=1e-5).lr('encoder') == 1e-5
    with pytest.raises(ValueError, match='e_lr=0 is invalid'):
        InnerLoopConfig(e_lr=0)
    for key in ('recon_weight', 'mode_seeking_weight'):
        with pytest.raises(ValueError, match=f'{key}=-1.0 is invalid'):
            InnerLoopConfig(**{key: -1.0})


def test_ragan_generator_loss_needs_real_scores():
    import torch

    from metagan_mm.core import gan_losses
    fake, real = torch.tensor([[0.5], [1.0]]), torch.tensor([[2.0], [0.0]])
    with pytest.raises(ValueError, match="loss='ragan' needs"):
        gan_losses.g_loss('ragan', fake)
    expected = gan_losses.ragan_g_loss(real, fake)
    assert torch.allclose(gan_losses.g_loss('ragan', fake, real), expected)
    assert torch.allclose(
        gan_losses.d_loss('ragan', lambda x: x, real=real, fake=fake),
        gan_losses.ragan_d_loss(real, fake))
