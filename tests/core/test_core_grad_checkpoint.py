"""Gradient checkpointing of second-order inner steps."""
import warnings

import pytest
import torch
from core_helpers import ToyD, ToyG, make_loop, max_diff, toy_tasks
from torch import nn

from metagan_mm.architectures import FIGRDCGANDiscriminator, FIGRDCGANGenerator
from metagan_mm.core import (MAML, InnerLoop, InnerLoopConfig, MetaSGD, Task,
                             draw_randomness, meta_gradients)
from metagan_mm.core.params import index_dict

K, N, T = 3, 5, 2


@pytest.mark.parametrize('optimizer', ['sgd', 'adam'])
@pytest.mark.parametrize('dawson', [False, True])
def test_checkpointed_maml_equals_plain(gen, optimizer, dawson):
    cfg = dict(steps=3, d_steps_per_g_step=2, optimizer=optimizer)
    plain = make_loop(mode='loop', **cfg)
    ckpt = make_loop(mode='loop', grad_checkpoint=True, **cfg)
    alg = MAML(K, separate_disc_adaptation=dawson)
    tasks = toy_tasks(T, N)
    rand = draw_randomness(alg, plain, T, N, gen)
    out0 = meta_gradients(alg, plain, tasks, rand)
    out1 = meta_gradients(alg, ckpt, tasks, rand)
    # same forward values; the backward sums in another order (rounding)
    assert torch.equal(out0.losses.inner_d, out1.losses.inner_d)
    assert torch.equal(out0.losses.outer_g, out1.losses.outer_g)
    for module in ('generator', 'discriminator'):
        assert max_diff(out0.grads[module], out1.grads[module]) <= 1e-6
    assert out0.losses.inner_d.shape == ((12, ) if dawson else (6, ))
    # and it is really second order: first order differs
    g_fo = meta_gradients(MAML(K, first_order=True), ckpt, tasks, rand).grads
    assert max_diff(g_fo['generator'], out1.grads['generator']) > 1e-4


def test_checkpointed_meta_sgd_rate_gradients_equal_plain(gen):
    outs = []
    for ck in (False, True):
        loop = make_loop(
            steps=2,
            optimizer='adam',
            g_lr=1e-2,
            d_lr=1e-2,
            grad_checkpoint=ck,
            mode='loop')
        alg = MetaSGD(loop, K, first_order=False)
        rand = draw_randomness(alg, loop, T, N, gen.manual_seed(4))
        outs.append(meta_gradients(alg, loop, toy_tasks(T, N), rand))
    assert max_diff(outs[0].grads['generator'],
                    outs[1].grads['generator']) <= 1e-6
    rate_grads = [out.grads['inner_rates'] for out in outs]
    assert max_diff(*rate_grads) <= 1e-6
    for prefix in ('g.', 'd.'):
        assert sum(
            float(v.abs().sum()) for k, v in rate_grads[1].items()
            if k.startswith(prefix)) > 0


def _tensors_of(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors_of(v)]
    return []


def _graph_saved_bytes(*outputs):
    """Bytes of the distinct memory blocks that the autograd graph behind
    ``outputs`` keeps for the backward pass (each node's saved tensors)."""
    storages, seen = {}, set()
    stack = [o.grad_fn for o in outputs if o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        saved = [
            getattr(node, a) for a in dir(node) if a.startswith('_saved_')
        ]
        if hasattr(node, 'saved_tensors'):  # a custom autograd.Function
            saved.append(node.saved_tensors)
        for t in _tensors_of(saved):
            st = t.untyped_storage()
            storages[st.data_ptr()] = st.nbytes()
        stack.extend(fn for fn, _ in node.next_functions)
    return sum(storages.values())


def _held_bytes(loop, alg, tasks, rand):
    losses = alg.task(loop, Task(tasks[0]), index_dict(rand, 0)).losses
    return _graph_saved_bytes(losses.outer_d, losses.outer_g)


def test_checkpointing_holds_less_for_the_outer_backward():
    """FIGR DCGAN, 6 second-order Adam steps: checkpointing keeps only the
    per-step weights/moments, far less than the full inner graph."""
    torch.manual_seed(0)
    g, d = FIGRDCGANGenerator(16, 32, 1, 8), FIGRDCGANDiscriminator(32, 1, 8)
    alg = MAML(4)
    tasks = torch.rand(1, 12, 1, 32, 32) * 2 - 1
    held = {}
    for ck in (False, True):
        loop = InnerLoop(
            g, d,
            InnerLoopConfig(
                steps=6,
                optimizer='adam',
                g_lr=1e-3,
                d_lr=1e-3,
                grad_checkpoint=ck))
        rand = draw_randomness(alg, loop, 1, 12,
                               torch.Generator().manual_seed(0))
        held[ck] = _held_bytes(loop, alg, tasks, rand)
    assert held[True] < 0.5 * held[False], held


class PreLayerToyD(ToyD):
    """Toy discriminator with ``pre`` (BatchNorm, dropout) before its MLP."""

    def __init__(self, pre: nn.Module) -> None:
        super().__init__(hidden=4)
        self.pre = pre

    def forward(self, x):
        return self.net(self.pre(x.flatten(1)))


def test_checkpointing_skipped_with_buffers_and_noted(gen):
    torch.manual_seed(0)
    loop = InnerLoop(
        ToyG(3, 4), PreLayerToyD(nn.BatchNorm1d(4)),
        InnerLoopConfig(
            steps=2,
            optimizer='sgd',
            g_lr=0.05,
            d_lr=0.05,
            grad_checkpoint=True,
            loss='nonsaturating'))  # batch_norm has no 3rd derivative (GP)
    alg = MAML(K)
    tasks = toy_tasks(T, N)
    rand = draw_randomness(alg, loop, T, N, gen)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        meta_gradients(alg, loop, tasks, rand)
    msgs = [str(w.message) for w in caught]
    assert any('grad_checkpoint ignored' in m and 'pre.running_mean' in m
               for m in msgs), msgs
    assert not loop.checkpointing(True)


def test_checkpointing_runs_tasks_sequentially_with_a_note(gen):
    loop = make_loop(steps=2, grad_checkpoint=True)
    alg = MAML(K)
    tasks = toy_tasks(T, N)
    rand = draw_randomness(alg, loop, T, N, gen)
    with pytest.warns(
            RuntimeWarning,
            match='grad_checkpoint=True runs the '
            'tasks sequentially'):
        out = meta_gradients(alg, loop, tasks, rand)
    assert out.batched is False
    # first order keeps no inner graph: nothing to checkpoint, vmap as usual
    assert not loop.checkpointing(False)
    assert meta_gradients(MAML(K, first_order=True), loop, tasks, rand).batched


def test_grad_checkpoint_must_be_bool():
    with pytest.raises(ValueError, match='grad_checkpoint=1 is invalid'):
        InnerLoopConfig(grad_checkpoint=1)


def test_checkpointed_step_replays_the_random_numbers_it_drew(gen):
    """Dropout in a checkpointed step: the re-run in the backward pass draws
    the same masks, so the gradient is that of the forward pass."""
    grads = {}
    for ck in (False, True):
        torch.manual_seed(0)
        loop = InnerLoop(
            ToyG(3, 4), PreLayerToyD(nn.Dropout(0.5)),
            InnerLoopConfig(
                steps=2,
                optimizer='sgd',
                g_lr=0.05,
                d_lr=0.05,
                grad_checkpoint=ck,
                loss='nonsaturating',
                batching=dict(mode='loop')))
        alg = MAML(K)
        tasks = toy_tasks(1, N)
        rand = draw_randomness(alg, loop, 1, N, gen.manual_seed(3))
        torch.manual_seed(1)
        grads[ck] = meta_gradients(alg, loop, tasks, rand).grads
    for module in ('generator', 'discriminator'):
        assert max_diff(grads[True][module], grads[False][module]) <= 1e-6
