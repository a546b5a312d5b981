"""Shared pieces of the conditioned architectures (plain torch).

* :class:`SetEncoderBase` -- per-image embedding, then pooling over the K
  images of a support set (the encoders subclass it).
* :class:`ConditionalNet` -- the conditioning interface: the base class of
  every generator or discriminator whose forward takes ``(x, condition)``;
  :func:`condition_size` asks any network for its condition size.
* :func:`maybe_spectral_norm` -- optional spectral normalisation.
* :func:`check_condition_sizes` -- build-time check that an encoder's
  embedding fits a generator's (and discriminator's) condition input.

Conditioning interface: an encoder has ``embed_size``; a conditioned
generator or discriminator subclasses :class:`ConditionalNet` and sets
``condition_size`` (``None`` on an instance that takes no condition, such as
FAML's unconditional discriminator).
"""
from typing import Optional

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as _sn

POOLINGS = ('mean', 'max', 'none')


def maybe_spectral_norm(module: nn.Module, enabled: bool) -> nn.Module:
    """Wrap ``module`` in spectral normalisation when ``enabled``.

    Spectral normalisation (``torch.nn.utils.parametrizations``) updates its
    power-iteration buffers in place in training mode, which
    ``torch.func.vmap`` cannot batch: networks built with it run the
    sequential (per-task) inner loop (``metagan_mm.core.batching`` detects
    the parametrization and falls back).
    """
    return _sn(module) if enabled else module


def check_size(cls: str, key: str, value: int) -> None:
    """Raise ValueError unless ``value`` is an int >= 1."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f'{cls}: {key}={value!r} must be an int >= 1.')


class ConditionalNet(nn.Module):
    """Base class of networks whose forward takes ``(x, condition)``.

    Attributes:
        condition_size: Size ``E`` of the condition, or None for an
            instance that takes no condition.
    """

    condition_size: Optional[int] = None

    def condition_rows(self, condition: Tensor, num: int) -> Tensor:
        """One condition per image: ``[num, E]`` from ``[E]``, ``[1, E]``,
        ``[num, E]`` or ``[K, E]`` (image ``i`` gets row ``i mod K``, as
        per-image encoders condition generation ``i`` on shot ``i``).

        Raises:
            ValueError: naming the class, the size and the shape got.
        """
        size = self.condition_size
        if condition.ndim == 1:
            condition = condition.unsqueeze(0)
        if condition.ndim != 2 or condition.shape[1] != size:
            raise ValueError(
                f'{type(self).__name__}: condition must be [{size}] or '
                f'[N, {size}] (condition_size={size}), got shape '
                f'{tuple(condition.shape)}')
        if condition.shape[0] in (1, num):
            return condition.expand(num, size)
        index = torch.arange(num, device=condition.device)
        return condition[index % condition.shape[0]]


def condition_size(net: nn.Module) -> Optional[int]:
    """The condition size of ``net`` (None: it takes no condition)."""
    return net.condition_size if isinstance(net, ConditionalNet) else None


class SetEncoderBase(nn.Module):
    """Embeds images one by one, then pools the embeddings of a set.

    Subclasses build ``self.net`` (``[N, C, S, S] -> [N, embed_size]``) and
    call :meth:`_init_set` in their constructor.
    """

    embed_size: int
    in_scale: int
    in_channels: int
    pooling: str

    def _init_set(self, in_scale: int, in_channels: int, embed_size: int,
                  pooling: str) -> None:
        cls = type(self).__name__
        check_size(cls, 'embed_size', embed_size)
        if pooling not in POOLINGS:
            raise ValueError(f'{cls}: pooling={pooling!r} is not supported; '
                             f'use one of {list(POOLINGS)}.')
        self.in_scale = in_scale
        self.in_channels = in_channels
        self.embed_size = embed_size
        self.pooling = pooling

    @property
    def input_shape(self):
        """``(C, H, W)`` of accepted images."""
        return (self.in_channels, self.in_scale, self.in_scale)

    def embed_images(self, images: Tensor) -> Tensor:
        """Map ``[N, C, S, S]`` images to ``[N, embed_size]`` (no pooling)."""
        if images.ndim != 4 or tuple(images.shape[1:]) != self.input_shape:
            raise ValueError(
                f'{type(self).__name__}: images must be [N, '
                f'{", ".join(map(str, self.input_shape))}], got shape '
                f'{tuple(images.shape)}')
        return self.net(images)

    def pool(self, embeddings: Tensor, dim: int) -> Tensor:
        """Pool embeddings over the set dimension ``dim``."""
        if self.pooling == 'mean':
            return embeddings.mean(dim)
        if self.pooling == 'max':
            return embeddings.amax(dim)
        return embeddings

    def forward(self, support: Tensor) -> Tensor:
        """Embed support sets.

        Args:
            support: ``[K, C, S, S]`` (one set) or ``[B, K, C, S, S]``.

        Returns:
            Tensor: ``[embed_size]`` / ``[B, embed_size]`` (pooled over K,
            invariant to the order of the K images), or with
            ``pooling='none'`` the per-image ``[K, embed_size]`` /
            ``[B, K, embed_size]``.
        """
        if support.ndim == 4:
            return self.pool(self.embed_images(support), 0)
        if support.ndim == 5:
            b, k = support.shape[:2]
            emb = self.embed_images(support.reshape(b * k, *support.shape[2:]))
            return self.pool(emb.reshape(b, k, -1), 1)
        raise ValueError(f'{type(self).__name__}: support must be [K, C, H, '
                         f'W] or [B, K, C, H, W], got shape '
                         f'{tuple(support.shape)}')


def check_condition_sizes(encoder: nn.Module,
                          generator: nn.Module,
                          discriminator: Optional[nn.Module] = None) -> None:
    """Check at build time that the encoder's embedding fits G (and D).

    Args:
        encoder: Has ``embed_size``.
        generator: A conditioned generator (has ``condition_size``).
        discriminator: Optional; conditioned (``condition_size`` an int) or
            unconditional (no ``condition_size`` or ``None``, e.g. FAML's).

    Raises:
        ValueError: naming both classes and both sizes when they differ, or
            the classes when the encoder has no ``embed_size`` or the
            generator takes no condition.
    """
    enc = type(encoder).__name__
    size = getattr(encoder, 'embed_size', None)
    if not isinstance(size, int):
        raise ValueError(f'{enc} is not a condition encoder (no int '
                         'embed_size attribute).')
    gsize = condition_size(generator)
    if gsize is None:
        raise ValueError(
            f'{type(generator).__name__} takes no condition (no '
            f'condition_size), but the encoder {enc} produces a {size}-d '
            'embedding: use a conditioned generator.')
    nets = [('generator', generator, gsize)]
    if discriminator is not None:
        dsize = condition_size(discriminator)
        if dsize is not None:
            nets.append(('discriminator', discriminator, dsize))
    for role, net, want in nets:
        if want != size:
            raise ValueError(
                f'{enc} embeds into embed_size={size}, but the {role} '
                f'{type(net).__name__} expects condition_size={want}; make '
                'them equal.')


def concat_condition(condition: Tensor, noise: Tensor) -> Tensor:
    """``[c, z]`` per row (FAML's ``[E(x), z]`` order)."""
    return torch.cat([condition, noise], dim=1)
