"""FAML's losses as pure functions (torch only).

FAML (Phaphuangwittayakul et al., "Fast Adaptive Meta-Learning for Few-Shot
Image Generation", IEEE TMM 2021) adapts D with the relativistic-average GAN
loss, and G and the encoder E with the relativistic-average G loss, a
mode-seeking term and an L1 reconstruction term. The functions below take
logits / images of ONE task; the means are over that task's images, so
they run unchanged under ``torch.func.vmap`` over tasks and under
``torch.func.grad`` (no data-dependent control flow, no in-place ops).

Compared with FAML's reference code (phaphuang/FAML, ``train.py``):

* RaGAN: the same "RaSGAN" form (Jolicoeur-Martineau 2019, with the
  ``/ 2`` of her code); FAML sums it over its two noise batches, which the
  caller does here (``loss(z1) + loss(z2)``).
* Mode seeking: the same form as FAML and MSGAN's public code
  (``1 / (ratio + eps)`` of batch-mean L1 distances). Mao et al.'s paper
  writes the term as maximising the ratio itself; the reciprocal is what
  both codes minimise.
* L1 reconstruction: FAML compares the images (normalised to [-1, 1])
  with ``sigmoid`` of the generator's ``tanh`` output, i.e. with values in
  (0.27, 0.73), which can never match and pulls dark strokes the wrong
  way; here the ``tanh`` output is compared directly.
"""
import torch.nn.functional as F
from torch import Tensor


def _check_same_shape(name: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f'{name}: shapes differ, {tuple(a.shape)} vs '
                         f'{tuple(b.shape)}')


def ragan_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Relativistic-average (RaSGAN) discriminator loss.

    ``(mean softplus(-(r - mean f)) + mean softplus(f - mean r)) / 2``,
    i.e. ``(BCE(r - mean f, 1) + BCE(f - mean r, 0)) / 2`` with logits
    ``r = D(real)``, ``f = D(fake)``. The means are over this batch (one
    task).

    Args:
        real_logits: ``[N]`` or ``[N, 1]`` D logits of real images.
        fake_logits: ``[M]`` or ``[M, 1]`` D logits of generated images
            (detached from G by the caller when only D is trained).

    Returns:
        Tensor: Scalar loss.
    """
    r, f = real_logits.reshape(-1), fake_logits.reshape(-1)
    return (F.softplus(-(r - f.mean())).mean() +
            F.softplus(f - r.mean()).mean()) / 2


def ragan_g_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Relativistic-average (RaSGAN) generator loss.

    ``(mean softplus(r - mean f) + mean softplus(-(f - mean r))) / 2``:
    the D loss with the labels swapped. Unlike the non-saturating loss it
    depends on the real logits too (FAML evaluates ``D(real)`` in its G
    steps).

    Args:
        real_logits: ``[N]`` or ``[N, 1]`` D logits of real images.
        fake_logits: ``[M]`` or ``[M, 1]`` D logits of generated images.

    Returns:
        Tensor: Scalar loss.
    """
    r, f = real_logits.reshape(-1), fake_logits.reshape(-1)
    return (F.softplus(r - f.mean()).mean() +
            F.softplus(-(f - r.mean())).mean()) / 2


def mode_seeking_ratio(images1: Tensor, images2: Tensor, noise1: Tensor,
                       noise2: Tensor) -> Tensor:
    """``mean |images2 - images1| / mean |noise2 - noise1|`` (Mao et al.).

    Batch means of L1 distances (as FAML and MSGAN's code), not a mean of
    per-pair ratios. ``images1[i]`` and ``images2[i]`` are generated from
    the same condition with noises ``noise1[i]`` and ``noise2[i]``.

    Args:
        images1: ``[N, C, H, W]`` generations from ``noise1``.
        images2: ``[N, C, H, W]`` generations from ``noise2``.
        noise1: ``[N, nz]``.
        noise2: ``[N, nz]``.

    Returns:
        Tensor: Scalar ratio (larger = more diverse).
    """
    _check_same_shape('mode_seeking_ratio images', images1, images2)
    _check_same_shape('mode_seeking_ratio noise', noise1, noise2)
    return ((images2 - images1).abs().mean() / (noise2 - noise1).abs().mean())


def mode_seeking_loss(images1: Tensor,
                      images2: Tensor,
                      noise1: Tensor,
                      noise2: Tensor,
                      eps: float = 1e-5) -> Tensor:
    """Mode-seeking regulariser ``1 / (ratio + eps)`` (to minimise).

    ``ratio`` is :func:`mode_seeking_ratio`. Mao et al. (2019) write the
    term as maximising the ratio; FAML and MSGAN's code minimise its
    reciprocal, with ``eps = 1e-5``, as here. FAML weights it by
    ``lambda_ms = 1``.

    Args:
        images1: ``[N, C, H, W]`` generations from ``noise1``.
        images2: ``[N, C, H, W]`` generations from ``noise2``.
        noise1: ``[N, nz]``.
        noise2: ``[N, nz]``.
        eps: Keeps the loss finite when the two generations coincide.

    Returns:
        Tensor: Scalar loss.
    """
    return 1.0 / (mode_seeking_ratio(images1, images2, noise1, noise2) + eps)


def l1_reconstruction_loss(generated: Tensor, target: Tensor) -> Tensor:
    """Mean absolute difference between generations and target images.

    Both must be in the same range: the generator's ``tanh`` output in
    [-1, 1] and the images normalised to [-1, 1] (the data preprocessor's
    range). FAML's code applies ``sigmoid`` to the already-``tanh`` output
    first (``L1(x, sigmoid(G(E(x), z)))``), which maps it to (0.27, 0.73)
    so that no generation can reconstruct an image in [-1, 1]; we compare
    the ``tanh`` output directly. FAML pairs every real image with a
    generation conditioned on that image's own embedding and weights the
    term by ``lambda_encoder = 1``.

    Args:
        generated: ``[N, C, H, W]`` in [-1, 1].
        target: ``[N, C, H, W]`` in [-1, 1].

    Returns:
        Tensor: Scalar loss (0 for a perfect reconstruction).
    """
    _check_same_shape('l1_reconstruction_loss', generated, target)
    return (generated - target).abs().mean()


__all__ = [
    'ragan_d_loss', 'ragan_g_loss', 'mode_seeking_ratio', 'mode_seeking_loss',
    'l1_reconstruction_loss'
]
