"""Functional GAN losses selectable by name (torch only).

Every loss works in two gradient *backends*:

* ``'autograd'``: plain eager autograd. The gradient penalty uses
  ``torch.autograd.grad(..., create_graph=True)``, so it can be
  differentiated again (second-order meta-learning) and works with any module
  that supports double backward (hooks, BatchNorm, old-style autograd
  Functions, ...).
* ``'func'``: for use inside :mod:`torch.func` transforms
  (``torch.func.grad`` / ``vmap``), where ``torch.autograd.grad`` is not
  allowed. The gradient penalty is computed with :func:`torch.func.vjp`.

Both give the same numbers.
"""
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .faml_losses import ragan_d_loss, ragan_g_loss

#: The values of ``inner_loop.loss``.
LOSS_NAMES = ('wgan-gp', 'nonsaturating', 'hinge', 'ragan')
BACKENDS = ('autograd', 'func')
_NORM_EPS = 1e-12

DiscFn = Callable[[Tensor], Tensor]


def check_loss_name(name: str) -> None:
    """Raise a ValueError if ``name`` is not a known GAN loss."""
    if name not in LOSS_NAMES:
        raise ValueError(f"loss={name!r} is not supported; use one of "
                         f"{list(LOSS_NAMES)}.")


def _input_grad(d_fn: DiscFn, x: Tensor, backend: str) -> Tensor:
    """Return d(sum D(x))/dx, differentiable w.r.t. D's parameters."""
    if backend == 'func':
        out, vjp_fn = torch.func.vjp(d_fn, x)
        return vjp_fn(torch.ones_like(out))[0]
    if backend != 'autograd':
        raise ValueError(f'backend={backend!r}; use one of {list(BACKENDS)}.')
    with torch.enable_grad():
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        out = d_fn(x)
        return torch.autograd.grad(out.sum(), x, create_graph=True)[0]


def interpolate(real: Tensor, fake: Tensor, alpha: Tensor) -> Tensor:
    """Return ``alpha * real + (1 - alpha) * fake``.

    Args:
        real: ``[N, ...]`` real images.
        fake: ``[N, ...]`` generated images.
        alpha: ``[N]`` coefficients in [0, 1] (drawn by the caller).
    """
    alpha = alpha.reshape(alpha.shape[0], *([1] * (real.dim() - 1)))
    return alpha * real + (1 - alpha) * fake


def gradient_penalty(d_fn: DiscFn,
                     real: Tensor,
                     fake: Tensor,
                     alpha: Tensor,
                     backend: str = 'autograd') -> Tensor:
    """WGAN-GP penalty ``mean((||grad_x D(x_hat)||_2 - 1)^2)``.

    Args:
        d_fn: Discriminator as a function of images (fast weights bound).
        real: ``[N, ...]`` real images.
        fake: ``[N, ...]`` fake images.
        alpha: ``[N]`` interpolation coefficients, pre-drawn by the caller.
        backend: ``'autograd'`` or ``'func'`` (see module docstring).

    Returns:
        Scalar penalty, differentiable w.r.t. D's parameters (and, through
        ``fake``, the generator's).
    """
    x_hat = interpolate(real, fake, alpha)
    grads = _input_grad(d_fn, x_hat, backend)
    sq = grads.reshape(grads.shape[0], -1).pow(2).sum(1)
    return ((sq + _NORM_EPS).sqrt() - 1).pow(2).mean()


def d_loss(name: str,
           d_fn: DiscFn,
           *,
           real: Tensor,
           fake: Tensor,
           alpha: Optional[Tensor] = None,
           gp_weight: float = 10.0,
           backend: str = 'autograd') -> Tensor:
    """Discriminator loss.

    * ``'wgan-gp'``: ``mean(D(fake)) - mean(D(real)) + gp_weight * GP``
      (GP skipped when ``gp_weight == 0``).
    * ``'nonsaturating'``:
      ``mean(softplus(-D(real))) + mean(softplus(D(fake)))``.
    * ``'hinge'``: ``mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))``.
    * ``'ragan'``: relativistic average (:func:`~.faml_losses.ragan_d_loss`).

    Args:
        name: One of :data:`LOSS_NAMES`.
        d_fn: Discriminator as a function of images.
        real: ``[N, ...]`` real images.
        fake: ``[M, ...]`` fake images.
        alpha: ``[N]`` GP coefficients (required for 'wgan-gp' with GP).
        gp_weight: GP weight (only used by 'wgan-gp').
        backend: Gradient backend for the GP.

    Returns:
        Scalar loss.
    """
    check_loss_name(name)
    real_out, fake_out = d_fn(real), d_fn(fake)
    if name == 'wgan-gp':
        loss = fake_out.mean() - real_out.mean()
        if gp_weight != 0:
            if alpha is None:
                raise ValueError("loss='wgan-gp' with gp_weight != 0 needs "
                                 'alpha (the GP interpolation coefficients).')
            loss = loss + gp_weight * gradient_penalty(d_fn, real, fake, alpha,
                                                       backend)
        return loss
    if name == 'nonsaturating':
        return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
    if name == 'ragan':
        return ragan_d_loss(real_out, fake_out)
    return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()


def g_loss(name: str,
           fake_out: Tensor,
           real_out: Optional[Tensor] = None) -> Tensor:
    """Generator loss from the discriminator's output on fakes.

    * ``'wgan-gp'`` and ``'hinge'``: ``-mean(D(G(z)))``.
    * ``'nonsaturating'``: ``mean(softplus(-D(G(z))))``.
    * ``'ragan'``: relativistic average, which also needs ``real_out``
      (:func:`~.faml_losses.ragan_g_loss`).

    Args:
        name: One of :data:`LOSS_NAMES`.
        fake_out: ``[N, 1]`` discriminator output on generated images.
        real_out: ``[M, 1]`` discriminator output on real images (only
            ``'ragan'`` uses it).

    Returns:
        Scalar loss.
    """
    check_loss_name(name)
    if name == 'nonsaturating':
        return F.softplus(-fake_out).mean()
    if name == 'ragan':
        if real_out is None:
            raise ValueError("loss='ragan' needs the discriminator's output "
                             'on real images (real_out).')
        return ragan_g_loss(real_out, fake_out)
    return -fake_out.mean()
