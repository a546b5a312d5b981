"""InnerLoopConfig validation."""
import pytest

from metagan_mm.core import InnerLoopConfig


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
    assert cfg.first_order and not cfg.create_graph
    assert cfg.gp_weight == 10.0 and cfg.loss == 'wgan-gp'
