"""Toy networks and helpers shared by the core tests (import them from here:
several test folders have a conftest module)."""
import dataclasses
from typing import Dict, Tuple

import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_map

from metagan_mm.architectures import ConditionalNet
from metagan_mm.core import (InnerLoop, InnerLoopConfig, Reptile, Task,
                             draw_randomness)


class ToyG(nn.Module):
    """Generator producing ``[N, 1, 2, 2]`` images from ``[N, nz]`` noise."""

    def __init__(self, noise_size: int = 3, hidden: int = 0) -> None:
        super().__init__()
        self.noise_size = noise_size
        self.net = (
            nn.Linear(noise_size, 4) if hidden == 0 else nn.Sequential(
                nn.Linear(noise_size, hidden), nn.Tanh(), nn.Linear(hidden,
                                                                    4)))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).reshape(z.shape[0], 1, 2, 2)


class ToyD(nn.Module):
    """Discriminator mapping ``[N, 1, 2, 2]`` images to ``[N, 1]``."""

    def __init__(self, hidden: int = 0) -> None:
        super().__init__()
        self.net = (
            nn.Linear(4, 1) if hidden == 0 else nn.Sequential(
                nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, 1)))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.flatten(1))


class _LeakyBackward(torch.autograd.Function):
    """Backward of _OnceLeaky; cannot itself be differentiated."""

    @staticmethod
    def forward(ctx, grad, x):
        return grad * torch.where(x > 0, 1.0, 0.2)

    @staticmethod
    def backward(ctx, _):
        raise RuntimeError('double backward is not implemented for _OnceLeaky')


class _OnceLeaky(torch.autograd.Function):
    """Leaky ReLU supporting only a single backward (old-style Function)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, 0.2 * x)

    @staticmethod
    def backward(ctx, grad):
        (x, ) = ctx.saved_tensors
        return _LeakyBackward.apply(grad, x)


class OnceDiffD(nn.Module):
    """Discriminator of ``[N, 1, 2, 2]`` images that is differentiable once
    (its activation's backward is not differentiable)."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(4, 5), nn.Linear(5, 1)

    def forward(self, x):
        return self.l2(_OnceLeaky.apply(self.l1(x.flatten(1))))


def make_loop(hidden: int = 6,
              dtype: torch.dtype = torch.float32,
              seed: int = 0,
              mode: str = 'auto',
              **cfg) -> InnerLoop:
    """Inner loop over seeded toy MLP nets (same seed, same nets), batching
    ``mode``."""
    torch.manual_seed(seed)
    g, d = ToyG(3, hidden).to(dtype), ToyD(hidden).to(dtype)
    base = dict(steps=2, optimizer='sgd', g_lr=0.05, d_lr=0.05)
    base.update(cfg)
    base.setdefault('batching', dict(mode=mode))
    return InnerLoop(g, d, InnerLoopConfig(**base))


def toy_tasks(num_tasks: int,
              n: int,
              dtype: torch.dtype = torch.float32,
              seed: int = 1) -> Tensor:
    """Random ``[T, N, 1, 2, 2]`` tasks in [-1, 1], one mean per task."""
    gen = torch.Generator().manual_seed(seed)
    mean = torch.rand(num_tasks, 1, 1, 2, 2, generator=gen) - 0.5
    x = mean + 0.3 * torch.randn(num_tasks, n, 1, 2, 2, generator=gen)
    return x.clamp(-1, 1).to(dtype)


def to_dtype(rand, dtype):
    """Cast a (nested) randomness dict."""
    if isinstance(rand, dict):
        return {k: to_dtype(v, dtype) for k, v in rand.items()}
    return rand.to(dtype)


def snapshot(*modules: nn.Module) -> Dict[str, Tensor]:
    """Copies of all parameters and buffers."""
    out = {}
    for i, m in enumerate(modules):
        out.update({
            f'{i}.{k}': v.detach().clone()
            for k, v in m.state_dict(keep_vars=True).items()
        })
    return out


def assert_bitwise_equal(before: Dict[str, Tensor], *modules:
                         nn.Module) -> None:
    """Assert modules' tensors are bitwise equal to a snapshot."""
    after = snapshot(*modules)
    assert before.keys() == after.keys()
    for k in before:
        assert torch.equal(before[k], after[k]), k


def max_diff(a: Dict[str, Tensor], b: Dict[str, Tensor]) -> float:
    """Max abs difference over same-keyed tensor dicts."""
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).detach().abs().max()) for k in a)


def loop_randomness(loop: InnerLoop, num_tasks: int, n: int, gen=None):
    """Inner-loop randomness of ``num_tasks`` tasks (leading dim ``T``),
    as Reptile's driver takes it (``{'inner': ...}``)."""
    return draw_randomness(Reptile(), loop, num_tasks, n, gen)


def adapt_tasks(loop: InnerLoop, tasks: Tensor, rand, create_graph=False):
    """Adapt to each task through the loop's task runner: the adapted
    weights with a leading task dim, and whether vmap ran."""

    def run(mode, part, r):
        view = loop.bound(mode)

        def adapt(task, rand):
            return view.adapt(task, rand['inner'], create_graph=create_graph)

        if mode.batched:
            return torch.func.vmap(adapt)(part, r)
        return tree_map(lambda v: v.unsqueeze(0), adapt(part, r))

    def cat(a, b):
        return tree_map(lambda x, y: torch.cat([x, y]), a, b)

    return loop.runner.run(run, cat, Task(tasks), rand)


def assert_same_losses(a, b, atol: float) -> None:
    """Every loss of two MetaResults agrees within ``atol``."""
    for f in dataclasses.fields(a.losses):
        x, y = getattr(a.losses, f.name), getattr(b.losses, f.name)
        assert (x is None) == (y is None), f.name
        if x is not None:
            assert torch.allclose(x, y, atol=atol), f.name


def grads_of(res) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
    """(G, D) meta-gradients of a MetaResult."""
    return res.grads['generator'], res.grads['discriminator']


def num_skipped(res) -> int:
    """Tasks a MetaResult dropped."""
    return res.num_tasks - res.num_valid


class ToyE(nn.Module):
    """Encoder of ``[N, 1, 2, 2]`` images: ``[N, size]`` per image, or their
    mean ``[size]`` (``pooled``)."""

    def __init__(self, size: int = 2, pooled: bool = True) -> None:
        super().__init__()
        self.embed_size, self.pooled = size, pooled
        self.input_shape = (1, 2, 2)
        self.net = nn.Linear(4, size)

    def forward(self, x: Tensor) -> Tensor:
        emb = torch.tanh(self.net(x.flatten(1)))
        return emb.mean(0) if self.pooled else emb


class ToyCondG(ConditionalNet):
    """Generator of ``[N, 1, 2, 2]`` images from noise and a condition."""

    def __init__(self, noise_size: int = 3, condition_size: int = 2) -> None:
        super().__init__()
        self.noise_size, self.condition_size = noise_size, condition_size
        self.net = nn.Sequential(
            nn.Linear(noise_size + condition_size, 6), nn.Tanh(),
            nn.Linear(6, 4))

    def forward(self, z: Tensor, c: Tensor) -> Tensor:
        c = self.condition_rows(c, z.shape[0])
        return self.net(torch.cat([c, z], 1)).reshape(z.shape[0], 1, 2, 2)


class ToyProjD(ConditionalNet, ToyD):
    """``ToyD`` plus a projection term ``<V c, x>``."""

    def __init__(self, condition_size: int = 2) -> None:
        super().__init__(6)
        self.condition_size = condition_size
        self.embed = nn.Linear(condition_size, 4, bias=False)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        c = self.condition_rows(c, x.shape[0])
        proj = (self.embed(c) * x.flatten(1)).sum(1, keepdim=True)
        return super().forward(x) + proj


def make_conditioned_loop(pooled: bool = True,
                          projection: bool = False,
                          seed: int = 0,
                          mode: str = 'auto',
                          dtype: torch.dtype = torch.float32,
                          **cfg) -> InnerLoop:
    """Inner loop over seeded toy conditioned nets: G(z, E(x)), D(x[, c])."""
    torch.manual_seed(seed)
    g, e = ToyCondG(3, 2).to(dtype), ToyE(2, pooled).to(dtype)
    d = (ToyProjD(2) if projection else ToyD(6)).to(dtype)
    base = dict(steps=2, optimizer='sgd', g_lr=0.05, d_lr=0.05)
    base.update(cfg)
    base.setdefault('batching', dict(mode=mode))
    return InnerLoop(g, d, InnerLoopConfig(**base), encoder=e)
