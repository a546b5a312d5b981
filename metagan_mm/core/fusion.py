"""Local fusion of K shots' feature maps, its noise and its losses (torch
only).

LoFGAN (Gu et al., ICCV 2021) makes a new image of a class from K shots by
fusing their encoded feature maps position by position: one shot is the
*base*; a fraction of the base map's positions is replaced by a convex
combination of the base feature there and, in every other shot, the
feature most cosine-similar to it. Everything random about one fusion (the
base shot, the coefficients, the positions) is a :class:`FusionNoise`
drawn by :func:`sample_fusion` outside the networks, so tasks batch, a
batched call equals a loop over tasks, and runs reproduce.

Shapes: ``B`` fusions (tasks), ``K`` shots, ``C`` channels, an ``h x w``
feature map, ``M`` fused positions.
"""
from typing import NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


class FusionNoise(NamedTuple):
    """The randomness of ``B`` local fusions of ``K`` shots.

    Attributes:
        base: ``[B]`` long, the base shot of each fusion.
        coefficients: ``[B, K]`` non-negative, summing to 1 over ``K``;
            ``coefficients[b, k]`` weighs shot ``k``.
        positions: ``[B, M]`` long, distinct flat positions of the base map
            that are fused (``M = int(rate * h * w)``).
    """

    base: Tensor
    coefficients: Tensor
    positions: Tensor


def sample_fusion(num: int,
                  k_shot: int,
                  map_positions: int,
                  num_fused: int,
                  generator: Optional[torch.Generator] = None,
                  device: Optional[torch.device] = None) -> FusionNoise:
    """Draw the noise of ``num`` fusions of ``k_shot`` shots (as LoFGAN
    does, per fusion).

    The base shot is uniform over the K shots; the coefficients are K
    uniform numbers divided by their sum; the fused positions are
    ``num_fused`` distinct positions out of ``map_positions``, uniformly.

    Args:
        num: Fusions ``B``.
        k_shot: Shots ``K`` per fusion (>= 1).
        map_positions: ``h * w`` of the feature map.
        num_fused: ``M``, positions fused per fusion.
        generator: Optional ``torch.Generator`` (on the CPU).
        device: Where the result goes (default CPU).

    Raises:
        ValueError: if ``k_shot < 1`` or ``num_fused`` is not in
            ``[0, map_positions]``.
    """
    if k_shot < 1:
        raise ValueError(f'sample_fusion: k_shot={k_shot}; a fusion needs '
                         'at least one shot.')
    if not 0 <= num_fused <= map_positions:
        raise ValueError(f'sample_fusion: num_fused={num_fused} must be in '
                         f'[0, map_positions={map_positions}].')
    base = torch.randint(k_shot, (num, ), generator=generator)
    weights = torch.rand(num, k_shot, generator=generator)
    coefficients = weights / weights.sum(1, keepdim=True)
    positions = torch.rand(
        num, map_positions, generator=generator).argsort(1)[:, :num_fused]
    return FusionNoise(
        base.to(device), coefficients.to(device), positions.to(device))


def _others(base: Tensor, k_shot: int) -> Tensor:
    """``[B, K-1]`` indices of the shots other than the base, in order."""
    ar = torch.arange(k_shot - 1, device=base.device)
    return ar + (ar >= base[:, None]).long()


def _take(x: Tensor, index: Tensor) -> Tensor:
    """``x[b, index[b, i]]`` for ``x`` ``[B, K, ...]``, ``index`` ``[B, J]``
    (a gather, so it batches under vmap)."""
    shape = index.shape + (1, ) * (x.dim() - 2)
    return x.gather(1, index.reshape(shape).expand(*index.shape, *x.shape[2:]))


def _fuse_at(maps: Tensor, noise: FusionNoise, matches: Tensor) -> Tensor:
    """Fuse flat maps ``[B, K, C, P]`` at the base's fused positions with
    the matched positions ``[B, K-1, M]`` of the other shots."""
    b, k, c, _ = maps.shape
    others = _others(noise.base, k)
    base = _take(maps, noise.base[:, None])[:, 0]  # [B, C, P]
    pos = noise.positions[:, None].expand(b, c, -1)
    fused = base.gather(2, pos) * _take(noise.coefficients[..., None],
                                        noise.base[:, None])[:, 0, :, None]
    if k > 1:
        refs = _take(maps, others)  # [B, K-1, C, P]
        picked = refs.gather(3, matches[:, :, None].expand(-1, -1, c, -1))
        weights = _take(noise.coefficients[..., None], others)  # [B,K-1,1]
        fused = fused + (weights[..., None] * picked).sum(1)
    return base.scatter(2, pos, fused)


def local_fusion(features: Tensor,
                 noise: FusionNoise) -> Tuple[Tensor, Tensor]:
    """LoFGAN's local fusion module (no parameters).

    For every fused position ``p`` of the base map and every other shot
    ``j``, the match ``m_j(p)`` is the position of shot ``j``'s map whose
    feature has the highest cosine similarity to the base feature at ``p``.
    The fused feature is ``a_base * f_base(p) + sum_j a_j * f_j(m_j(p))``;
    every other position keeps the base feature.

    With ``K = 1`` there is no other shot: the coefficient of the base is
    1, so the result is the shot's own map (the generator then
    reconstructs its shot) and ``matches`` is ``[B, 0, M]``.

    Args:
        features: ``[B, K, C, h, w]`` encoded shots.
        noise: From :func:`sample_fusion` (``B`` fusions of ``K`` shots).

    Returns:
        ``(fused [B, C, h, w], matches [B, K-1, M])``: the fused maps and
        the matched flat positions (for :func:`local_reconstruction_loss`).
    """
    b, k, c, h, w = features.shape
    flat = features.reshape(b, k, c, h * w)
    m = noise.positions.shape[1]
    if k > 1:
        unit = F.normalize(flat, dim=2)
        query = _take(unit, noise.base[:, None])[:, 0].gather(
            2, noise.positions[:, None].expand(b, c, m))  # [B, C, M]
        refs = _take(unit, _others(noise.base, k))  # [B, K-1, C, P]
        similarity = torch.einsum('bcm,bjcp->bjmp', query, refs)
        matches = similarity.argmax(-1)  # [B, K-1, M]
    else:
        matches = noise.positions.new_zeros(b, 0, m)
    return _fuse_at(flat, noise, matches).reshape(b, c, h, w), matches


def local_reconstruction_loss(shots: Tensor, fake: Tensor, noise: FusionNoise,
                              matches: Tensor, map_size: int) -> Tensor:
    """LoFGAN's local reconstruction loss.

    The shots are down-sampled (nearest) to the feature map's size, the
    same fusion (base, coefficients, positions and matches) is applied to
    their pixels, and the mean L1 distance to the generation, down-sampled
    the same way, is returned.

    Args:
        shots: ``[B, K, C, H, W]`` real shots.
        fake: ``[B, C, H, W]`` generations of the fusions ``noise``.
        noise: The fusions' noise.
        matches: ``[B, K-1, M]`` from :func:`local_fusion`.
        map_size: ``h`` (= ``w``) of the fused feature map.
    """
    b, k, c = shots.shape[:3]
    small = F.interpolate(shots.flatten(0, 1), size=map_size)
    target = _fuse_at(small.reshape(b, k, c, -1), noise, matches)
    return (F.interpolate(fake, size=map_size).flatten(2) -
            target).abs().mean()


def r1_penalty(scores: Tensor, images: Tensor) -> Tensor:
    """Mean over images of ``|d scores_i / d images_i|^2`` (differentiable;
    ``images`` must require grad and ``scores`` be ``[N]``)."""
    grad, = torch.autograd.grad(scores.sum(), images, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


class FusionLosses(NamedTuple):
    """Weights of the fusion GAN's loss terms (LoFGAN's names).

    Attributes:
        adv: Hinge terms of D and G (LoFGAN ``w_adv_d`` = ``w_adv_g``).
        cls: Seen-class cross-entropy of D (real) and G (fake)
            (``w_cls``).
        recon: Local reconstruction loss of G (``w_recon``).
        r1: R1 penalty on D's true-class logit of real images (LoFGAN's
            ``w_gp`` times ``1 / N**2`` for its ``N`` images per batch; see
            docs/user_guides/fusion.md).
    """

    adv: float = 1.0
    cls: float = 1.0
    recon: float = 0.5
    r1: float = 0.02


def d_loss(disc, shots: Tensor, labels: Tensor, fake: Tensor,
           w: FusionLosses) -> Tuple[Tensor, dict]:
    """The discriminator's loss.

    Hinge on real shots and fakes, class cross-entropy and R1 penalty (on
    the true class's logit) on the real shots.

    Args:
        disc: Maps ``[N, C, H, W]`` to ``(adv [N, 1], class logits [N,
            classes])``.
        shots: ``[N, C, H, W]`` real images.
        labels: ``[N]`` their seen classes (unused when ``w.cls == 0``).
        fake: ``[F, C, H, W]`` generations (constants for D).
        w: Loss weights; with ``w.cls == 0`` (an unseen class, which has
            no row in the class head) neither the class term nor the R1
            penalty on the class logit is taken.

    Returns:
        The total loss and its terms (detached) by log name.
    """
    real = shots.detach().requires_grad_(bool(w.r1 and w.cls))
    adv_real, cls_real = disc(real)
    adv_fake, _ = disc(fake.detach())
    terms = {
        'd_adv_real': F.relu(1 - adv_real).mean() * w.adv,
        'd_adv_fake': F.relu(1 + adv_fake).mean() * w.adv
    }
    if w.cls:
        terms['d_cls'] = F.cross_entropy(cls_real, labels) * w.cls
    if w.r1 and w.cls:
        true = cls_real.gather(1, labels[:, None])[:, 0]
        terms['d_r1'] = r1_penalty(true, real) * w.r1
    return sum(terms.values()), {k: v.detach() for k, v in terms.items()}


def g_loss(disc, fake: Tensor, labels: Tensor, recon: Tensor,
           w: FusionLosses) -> Tuple[Tensor, dict]:
    """The generator's loss: hinge, class cross-entropy of the fakes (their
    task's class; left out when ``w.cls == 0``) and the local
    reconstruction loss ``recon``.

    Returns:
        The total loss and its terms (detached) by log name.
    """
    adv_fake, cls_fake = disc(fake)
    terms = {'g_adv': -adv_fake.mean() * w.adv, 'g_recon': recon * w.recon}
    if w.cls:
        terms['g_cls'] = F.cross_entropy(cls_fake, labels) * w.cls
    return sum(terms.values()), {k: v.detach() for k, v in terms.items()}
