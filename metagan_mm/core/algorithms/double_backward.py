"""Diagnose missing double-backward support for second-order MAML."""
from typing import List

import torch
from torch import Tensor, nn

from ..inner_loop import InnerLoop
from ..params import functional_call, meta_buffers


def supports_double_backward(module: nn.Module, x: Tensor) -> bool:
    """Return whether grad-of-grad w.r.t. ``module``'s params works on ``x``.

    The module's parameters and buffers are not modified (copies are used).
    """
    params = {
        k: v.detach().requires_grad_(True)
        for k, v in module.named_parameters()
    }
    try:
        with torch.enable_grad():
            out = functional_call(module, params,
                                  meta_buffers(module, clone=True), x)
            grads = torch.autograd.grad(
                out.pow(2).sum(),
                list(params.values()),
                create_graph=True,
                allow_unused=True)
            total = sum(
                g.pow(2).sum() for g in grads
                if g is not None and g.requires_grad)
            if isinstance(total, Tensor):
                torch.autograd.grad(
                    total, list(params.values()), allow_unused=True)
    except (RuntimeError, NotImplementedError):
        return False
    return True


def second_order_error(inner_loop: InnerLoop, tasks: Tensor,
                       err: BaseException) -> BaseException:
    """Turn a second-order failure into a clear error naming the module.

    Probes G (on noise) and D (on two task images) for double backward. If
    neither is found to fail, the original error is returned unchanged.
    """
    gen, disc = inner_loop.generator, inner_loop.discriminator
    ref = next(gen.parameters())
    bad: List[str] = []
    if not supports_double_backward(
            gen,
            torch.zeros(
                2, inner_loop.noise_size, device=ref.device, dtype=ref.dtype)):
        bad.append(f'generator {type(gen).__name__}')
    if not supports_double_backward(disc, tasks[0, :2].detach()):
        bad.append(f'discriminator {type(disc).__name__}')
    if not bad:
        return err
    first = (str(err).splitlines() or [''])[0]
    return RuntimeError(
        'Second-order MAML needs double backward through the '
        f'{" and ".join(bad)}, '
        f'which does not support it ({type(err).__name__}: {first}). '
        'Use first_order=True (e.g. MAML(..., first_order=True)) or make the '
        'module twice differentiable.')
