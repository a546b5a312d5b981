"""The probe of the derivative orders meta-training takes of G and D."""
import pytest
import torch
from core_helpers import OnceDiffD, ToyG, assert_bitwise_equal, snapshot
from torch import nn

from metagan_mm.core import InnerLoop, InnerLoopConfig
from metagan_mm.core.algorithms.double_backward import (
    DerivativeOrderError, check_derivative_orders, derivative_orders,
    derivative_problems)


class NormD(nn.Module):
    """Discriminator of ``[N, 1, 2, 2]`` images with a normalisation."""

    def __init__(self, norm: nn.Module) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 1)
        self.norm = norm
        self.head = nn.Linear(16, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(
            nn.functional.leaky_relu(self.norm(self.conv(x)), 0.2).flatten(1))


def loop_with(disc: nn.Module, **cfg) -> InnerLoop:
    torch.manual_seed(0)
    base = dict(steps=1, optimizer='sgd', g_lr=0.1, d_lr=0.1)
    base.update(cfg)
    return InnerLoop(ToyG(3, 5), disc, InnerLoopConfig(**base))


@pytest.mark.parametrize('second_order, gp, orders', [
    (False, False, (1, 1)),
    (False, True, (1, 2)),
    (True, False, (2, 2)),
    (True, True, (2, 3)),
])
def test_orders_per_network(second_order, gp, orders):
    assert derivative_orders(second_order, gp) == {
        'generator': orders[0],
        'discriminator': orders[1]
    }


@pytest.mark.parametrize(
    'norm', [
        nn.BatchNorm2d(4),
        nn.BatchNorm2d(4, track_running_stats=False),
        nn.InstanceNorm2d(4, affine=True)
    ],
    ids=['batchnorm', 'batchnorm-no-running-stats', 'instancenorm'])
def test_second_order_with_gp_refuses_batch_norm_naming_layer_and_fixes(norm):
    loop = loop_with(NormD(norm))
    with pytest.raises(DerivativeOrderError) as info:
        check_derivative_orders(loop, second_order=True)
    msg = str(info.value)
    assert msg.startswith('Meta-training takes derivatives of order 3 of the '
                          'discriminator NormD (second-order meta-gradients')
    assert (f'but its layer norm ({type(norm).__name__}) supports only order '
            '2 (RuntimeError: batch_norm does not support 3rd+ order '
            'derivatives)') in msg
    assert 'model.first_order=True (order 2)' in msg
    assert "loss='hinge' or 'nonsaturating', or gp_weight=0 (order 2)" in msg
    assert 'LayerNorm, GroupNorm' in msg
    assert 'ToyG' not in msg


@pytest.mark.parametrize('second_order, loss', [(False, 'wgan-gp'),
                                                (True, 'hinge'),
                                                (True, 'nonsaturating')])
def test_batch_norm_passes_where_order_two_is_enough(second_order, loss):
    loop = loop_with(NormD(nn.BatchNorm2d(4)), loss=loss)
    assert derivative_problems(loop, second_order) == []


@pytest.mark.parametrize(
    'norm', [nn.GroupNorm(1, 4), nn.LayerNorm([4, 2, 2])],
    ids=['groupnorm', 'layernorm'])
def test_layer_and_group_norm_pass_third_order(norm):
    assert derivative_problems(loop_with(NormD(norm)), True) == []


def test_once_differentiable_d_fails_gp_even_first_order():
    loop = loop_with(OnceDiffD())
    problems = derivative_problems(loop, second_order=False)
    assert len(problems) == 1
    msg = problems[0]
    assert 'order 2 of the discriminator OnceDiffD (the WGAN-GP' in msg
    assert 'supports only order 1' in msg
    assert 'double backward is not implemented for _OnceLeaky' in msg
    assert "loss='hinge'" in msg and 'first_order' not in msg
    # second order with GP needs order 3: dropping one of the two is not
    # enough for a once-differentiable D, only dropping both
    msg = derivative_problems(loop, second_order=True)[0]
    assert 'order 3 of the discriminator OnceDiffD' in msg
    assert 'first_order=True (order 2)' not in msg
    assert 'gp_weight=0 (order 2)' not in msg
    assert ('both model.first_order=True and a loss without gradient '
            'penalty (order 1)') in msg
    assert 'a discriminator whose layers are differentiable 3 times' in msg


def test_probe_leaves_networks_and_global_random_state_untouched():
    loop = loop_with(NormD(nn.BatchNorm2d(4)))
    before = snapshot(loop.generator, loop.discriminator)
    state = torch.get_rng_state()
    assert derivative_problems(loop, True)  # refused, after probing
    assert derivative_problems(loop, False) == []
    assert_bitwise_equal(before, loop.generator, loop.discriminator)
    assert torch.equal(torch.get_rng_state(), state)


def fusion_loop(r1: float) -> InnerLoop:
    """Local-fusion nets (a generator of shots, no noise vector) whose D
    has a BatchNorm after its first block."""
    from metagan_mm.architectures import (ClassHeadResNetDiscriminator,
                                          LocalFusionGenerator)
    from metagan_mm.core.fusion import FusionObjective
    torch.manual_seed(0)
    disc = ClassHeadResNetDiscriminator(32, 1, 3, base_channels=2)
    disc.body.insert(1, nn.BatchNorm2d(2))  # after the first conv (2 ch)
    return InnerLoop(
        LocalFusionGenerator(32, 1, base_channels=2),
        disc,
        InnerLoopConfig(steps=1, loss='hinge'),
        objective=FusionObjective(r1=r1))


def test_fusion_nets_are_probed_on_fusions_of_shots_and_r1_counts():
    """The probe runs a fusion generator on shots and its noise (it has no
    noise vector), and FusionObjective's R1 penalty counts as a gradient
    penalty: second order then needs order 3 of D, which BatchNorm lacks;
    without R1 order 2 is enough."""
    loop = fusion_loop(r1=0.1)
    assert loop.noise_size is None
    msg, = derivative_problems(loop, second_order=True)
    assert msg.startswith(
        'Meta-training takes derivatives of order 3 of the discriminator '
        'ClassHeadResNetDiscriminator (second-order meta-gradients, '
        'model.first_order=False, with the gradient penalty of '
        'FusionObjective, model.objective.r1 > 0)')
    assert 'its layer body.1 (BatchNorm2d) supports only order 2' in msg
    assert 'no gradient penalty: model.objective.r1=0 (order 2)' in msg
    assert 'LocalFusionGenerator' not in msg
    assert derivative_problems(loop, second_order=False) == []
    assert derivative_problems(fusion_loop(r1=0.0), second_order=True) == []
