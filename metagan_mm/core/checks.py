"""Sanity checks for generator/discriminator pairs (torch only)."""
from typing import Optional

import torch
from torch import nn

from ..architectures import check_condition_sizes, condition_size
from .params import functional_call, meta_buffers, meta_params


def call(module: nn.Module, *args: torch.Tensor) -> torch.Tensor:
    """Run ``module`` on ``args`` without changing its buffers."""
    return functional_call(module, meta_params(module),
                           meta_buffers(module, clone=True), args)


def _check_conditioning(generator: nn.Module, discriminator: nn.Module,
                        encoder: Optional[nn.Module]) -> None:
    """A conditioned G or D needs an encoder whose embedding fits it."""
    if encoder is not None:
        check_condition_sizes(encoder, generator, discriminator)
        return
    for role, net in (('generator', generator), ('discriminator',
                                                 discriminator)):
        size = condition_size(net)
        if size is not None:
            raise ValueError(
                f'the {role} {type(net).__name__} is conditioned '
                f'(condition_size={size}) but the model has no encoder: add '
                f"model.encoder=dict(type='SupportSetEncoder', "
                f'embed_size={size}) or use an unconditional {role}.')


def check_pair(generator: nn.Module,
               discriminator: nn.Module,
               noise_size: Optional[int] = None,
               encoder: Optional[nn.Module] = None,
               batch: int = 2) -> None:
    """Check that D accepts G's images and returns ``[N, 1]`` (with an
    encoder: that its embedding fits G's and D's condition).

    Runs the networks once on zeros without touching their parameters or
    buffers (buffers are copied).

    Args:
        generator: Maps ``[N, noise_size]`` (and a condition) to images.
        discriminator: Maps images (and a condition) to ``[N, 1]``.
        noise_size: Noise dim (default ``generator.noise_size``).
        encoder: Optional condition encoder (embeds G's output shape).
        batch: Probe batch size (>= 2 so normalisation layers work).

    Raises:
        ValueError: naming G's output shape and D's expected input shape (or
            D's output shape) when they do not fit; naming the classes and
            sizes when a conditioned network has no encoder or its
            embedding size differs.
    """
    _check_conditioning(generator, discriminator, encoder)
    nz = noise_size or getattr(generator, 'noise_size', None)
    if nz is None:
        raise ValueError('check_pair needs noise_size: the generator has no '
                         '`noise_size` attribute.')
    ref = next(generator.parameters())
    z = torch.zeros(batch, nz, device=ref.device, dtype=ref.dtype)
    g_name, d_name = type(generator).__name__, type(discriminator).__name__
    with torch.no_grad():
        args = (z, )
        if encoder is not None:
            shape = getattr(encoder, 'input_shape', None) or getattr(
                discriminator, 'input_shape', None)
            if shape is not None:
                probe = torch.zeros(batch, *shape, device=ref.device)
                args = (z, call(encoder, probe))
        img = call(generator, *args)
        expected = getattr(discriminator, 'input_shape', None)
        got = tuple(img.shape[1:])
        if expected is not None and tuple(expected) != got:
            raise ValueError(
                f'{g_name} produces images of shape {got} (noise_size={nz}) '
                f'but {d_name} expects input shape {tuple(expected)}.')
        try:
            out = call(discriminator, img, *args[1:]) if condition_size(
                discriminator) is not None else call(discriminator, img)
        except RuntimeError as err:
            raise ValueError(
                f'{d_name} cannot take {g_name} output of shape {got}: '
                f'{str(err).splitlines()[0]}') from err
    if tuple(out.shape) != (batch, 1):
        raise ValueError(f'{d_name} maps {g_name} output of shape {got} to '
                         f'{tuple(out.shape)}; expected ({batch}, 1).')
