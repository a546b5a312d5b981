"""Sanity checks for generator/discriminator pairs (torch only)."""
from typing import Optional

import torch
from torch import nn

from .params import functional_call, meta_buffers, meta_params


def check_pair(generator: nn.Module,
               discriminator: nn.Module,
               noise_size: Optional[int] = None,
               batch: int = 2) -> None:
    """Check that D accepts G's images and returns ``[N, 1]``.

    Runs both networks once on zero noise without touching their parameters
    or buffers (buffers are copied).

    Args:
        generator: Maps ``[N, noise_size]`` to images.
        discriminator: Maps images to ``[N, 1]``.
        noise_size: Noise dim (default ``generator.noise_size``).
        batch: Probe batch size (>= 2 so normalisation layers work).

    Raises:
        ValueError: naming G's output shape and D's expected input shape (or
            D's output shape) when they do not fit.
    """
    nz = noise_size or getattr(generator, 'noise_size', None)
    if nz is None:
        raise ValueError('check_pair needs noise_size: the generator has no '
                         '`noise_size` attribute.')
    ref = next(generator.parameters())
    z = torch.zeros(batch, nz, device=ref.device, dtype=ref.dtype)
    g_name, d_name = type(generator).__name__, type(discriminator).__name__
    with torch.no_grad():
        img = functional_call(generator, meta_params(generator),
                              meta_buffers(generator, clone=True), z)
        expected = getattr(discriminator, 'input_shape', None)
        got = tuple(img.shape[1:])
        if expected is not None and tuple(expected) != got:
            raise ValueError(
                f'{g_name} produces images of shape {got} (noise_size={nz}) '
                f'but {d_name} expects input shape {tuple(expected)}.')
        try:
            out = functional_call(discriminator, meta_params(discriminator),
                                  meta_buffers(discriminator, clone=True), img)
        except RuntimeError as err:
            raise ValueError(
                f'{d_name} cannot take {g_name} output of shape {got}: '
                f'{str(err).splitlines()[0]}') from err
    if tuple(out.shape) != (batch, 1):
        raise ValueError(f'{d_name} maps {g_name} output of shape {got} to '
                         f'{tuple(out.shape)}; expected ({batch}, 1).')
