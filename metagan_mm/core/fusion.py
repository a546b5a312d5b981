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
from dataclasses import dataclass
from typing import Dict, Mapping, NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .faml_losses import mode_seeking_loss

TensorDict = Dict[str, Tensor]


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


def draw_fusion(shape: Tuple[int, ...],
                max_shots: int,
                map_positions: int,
                num_fused: int,
                generator: Optional[torch.Generator] = None) -> TensorDict:
    """Draw the randomness of fusions of up to ``max_shots`` shots, before
    the number of shots is known (:func:`fusion_noise` resolves it).

    Returns:
        dict: ``base`` (``[*shape]``, uniform in [0, 1)), ``weights``
        (``[*shape, max_shots]``, uniform) and ``positions``
        (``[*shape, num_fused]``, distinct positions out of
        ``map_positions``).

    Raises:
        ValueError: if ``num_fused`` is not in ``[0, map_positions]``.
    """
    if not 0 <= num_fused <= map_positions:
        raise ValueError(f'num_fused={num_fused} must be in '
                         f'[0, map_positions={map_positions}].')
    return {
        'base':
        torch.rand(*shape, generator=generator),
        'weights':
        torch.rand(*shape, max_shots, generator=generator),
        'positions':
        torch.rand(*shape, map_positions,
                   generator=generator).argsort(-1)[..., :num_fused]
    }


def fusion_noise(rand: TensorDict, k_shot: int) -> FusionNoise:
    """The fusion noise of ``k_shot`` shots from :func:`draw_fusion`: the
    base shot uniform over the K shots, the coefficients the first K
    weights divided by their sum (as LoFGAN draws them), the positions.

    Raises:
        ValueError: if ``k_shot`` is not in ``[1, max_shots]``.
    """
    max_shots = rand['weights'].shape[-1]
    if not 1 <= k_shot <= max_shots:
        raise ValueError(f'k_shot={k_shot}: a fusion takes 1 to '
                         f'{max_shots} shots (max_shots).')
    weights = rand['weights'][..., :k_shot]
    base = (rand['base'] * k_shot).long().clamp(max=k_shot - 1)
    return FusionNoise(base, weights / weights.sum(-1, keepdim=True),
                       rand['positions'])


def sample_fusion(num: int,
                  k_shot: int,
                  map_positions: int,
                  num_fused: int,
                  generator: Optional[torch.Generator] = None,
                  device: Optional[torch.device] = None) -> FusionNoise:
    """Draw the noise of ``num`` fusions of ``k_shot`` shots (as LoFGAN
    does, per fusion): :func:`draw_fusion` then :func:`fusion_noise`.

    Raises:
        ValueError: if ``k_shot < 1`` or ``num_fused`` is not in
            ``[0, map_positions]``.
    """
    if k_shot < 1:
        raise ValueError(f'sample_fusion: k_shot={k_shot}; a fusion needs '
                         'at least one shot.')
    rand = draw_fusion((num, ), k_shot, map_positions, num_fused, generator)
    return FusionNoise(*(v.to(device) for v in fusion_noise(rand, k_shot)))


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


def _real_scores(disc, real: Tensor, labels: Tensor,
                 backend: str) -> Tuple[Tensor, Tensor, Tensor]:
    """D's outputs on real images and the input gradient of each image's
    true-class logit (one forward pass; ``backend`` as in
    :mod:`~metagan_mm.core.gan_losses`: ``'autograd'`` or ``'func'``)."""

    def scores(x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        adv, cls = disc(x)
        return adv, cls, cls.gather(1, labels[:, None])[:, 0]

    if backend == 'func':
        (adv, cls, true), vjp_fn = torch.func.vjp(scores, real)
        grad, = vjp_fn((torch.zeros_like(adv), torch.zeros_like(cls),
                        torch.ones_like(true)))
        return adv, cls, grad
    with torch.enable_grad():
        x = real.detach().requires_grad_(True)
        adv, cls, true = scores(x)
        grad, = torch.autograd.grad(true.sum(), x, create_graph=True)
    return adv, cls, grad


class FusionLosses(NamedTuple):
    """Weights of the fusion GAN's loss terms (LoFGAN's names).

    Attributes:
        adv: Hinge terms of D and G (LoFGAN ``w_adv_d`` = ``w_adv_g``).
        cls: Seen-class cross-entropy of D (real) and G (fake)
            (``w_cls``).
        recon: Local reconstruction loss of G (``w_recon``).
        r1: R1 penalty on D's true-class logit of real images: the mean
            over images of its squared input-gradient norm (LoFGAN's
            ``w_gp`` times ``1 / N**2`` for its ``N`` images per batch; see
            docs/user_guides/fusion.md).
    """

    adv: float = 1.0
    cls: float = 1.0
    recon: float = 0.5
    r1: float = 0.02


def d_loss(disc,
           real: Tensor,
           labels: Optional[Tensor],
           fake: Tensor,
           w: FusionLosses,
           backend: str = 'autograd') -> Tuple[Tensor, dict]:
    """The discriminator's loss.

    Hinge on real images and fakes, class cross-entropy and R1 penalty (on
    the true class's logit) on the real images.

    Args:
        disc: Maps ``[N, C, H, W]`` to ``(adv [N, 1], class logits [N,
            classes])``.
        real: ``[N, C, H, W]`` real images.
        labels: ``[N]`` their seen classes, or None: an unseen class, which
            has no row in the class head, so neither the class term nor the
            R1 penalty on its logit is taken.
        fake: ``[F, C, H, W]`` generations (only D is differentiated by the
            caller).
        w: Loss weights.
        backend: How the R1 input gradient is taken (``'autograd'``, or
            ``'func'`` inside ``torch.func`` transforms).

    Returns:
        The total loss and its terms (detached) by log name.
    """
    with_class = labels is not None and w.cls
    if with_class:
        adv_real, cls_real, grad = _real_scores(disc, real, labels, backend)
    else:
        adv_real = disc(real)[0]
    adv_fake, _ = disc(fake)
    terms = {
        'd_adv_real': F.relu(1 - adv_real).mean() * w.adv,
        'd_adv_fake': F.relu(1 + adv_fake).mean() * w.adv
    }
    if with_class:
        terms['d_cls'] = F.cross_entropy(cls_real, labels) * w.cls
        if w.r1:
            terms['d_r1'] = grad.pow(2).flatten(1).sum(1).mean() * w.r1
    return sum(terms.values()), {k: v.detach() for k, v in terms.items()}


def g_loss(disc, fake: Tensor, labels: Optional[Tensor], recon: Tensor,
           w: FusionLosses) -> Tuple[Tensor, dict]:
    """The generator's loss: hinge, class cross-entropy of the fakes (their
    task's class; left out when ``labels`` is None) and the local
    reconstruction loss ``recon``.

    Returns:
        The total loss and its terms (detached) by log name.
    """
    adv_fake, cls_fake = disc(fake)
    terms = {'g_adv': -adv_fake.mean() * w.adv, 'g_recon': recon * w.recon}
    if labels is not None and w.cls:
        terms['g_cls'] = F.cross_entropy(cls_fake, labels) * w.cls
    return sum(terms.values()), {k: v.detach() for k, v in terms.items()}


@dataclass(frozen=True)
class FusionObjective:
    """The GAN objective of a local-fusion generator and a class-head
    discriminator (:class:`~metagan_mm.core.objective.GANObjective`):
    LoFGAN's losses, for any algorithm of the project (plain training with
    ``Pooled``, Reptile, MAML...).

    Every D or G update generates ``fusions`` fusions of the task's shots
    (``shots``; LoFGAN: one per task and update). D: :func:`d_loss` on
    ``real`` (labelled with the task's class) against them; G:
    :func:`g_loss` with the local reconstruction loss, plus, with
    ``mode_seeking``, the mode-seeking term of MSGAN (Mao et al., 2019) as
    F2GAN applies it to fusions: ``1 / (ratio + 1e-5)``, ``ratio`` the mean
    L1 distance between consecutive fusions of the same shots over that of
    their fusion coefficients (LoFGAN has no such term). A task without a
    label (an unseen class at few-shot adaptation) has no class terms.

    Attributes:
        adv, cls, recon, r1: :class:`FusionLosses` weights.
        mode_seeking: Weight of the mode-seeking term (0: none; needs
            ``fusions >= 2``).
        fusions: Fusions per update.
        max_shots: Most shots a task may have (the randomness is drawn
            before the number of shots is known).

    Raises:
        ValueError: if ``mode_seeking`` is set with fewer than 2 fusions.
    """

    adv: float = 1.0
    cls: float = 1.0
    recon: float = 0.5
    r1: float = 0.02
    mode_seeking: float = 0.0
    fusions: int = 1
    max_shots: int = 16

    def __post_init__(self) -> None:
        if self.mode_seeking and self.fusions < 2:
            raise ValueError(
                f'FusionObjective: mode_seeking={self.mode_seeking} compares '
                'two fusions of the same shots, but fusions='
                f'{self.fusions}; set model.objective.fusions=2 (or more).')

    @property
    def gradient_penalty(self) -> Optional[str]:
        """The option of D's gradient penalty (R1) when it is taken, for
        the build-time derivative-order check: D is differentiated once
        more."""
        return 'model.objective.r1' if self.r1 and self.cls else None

    @property
    def weights(self) -> FusionLosses:
        """The loss weights."""
        return FusionLosses(self.adv, self.cls, self.recon, self.r1)

    def sample(self, modules: Mapping[str, nn.Module], *, num: int,
               d_shape: Tuple[int, ...], g_shape: Tuple[int, ...],
               generator: Optional[torch.Generator]) -> Dict[str, TensorDict]:
        """``{'d': ..., 'g': ...}``: :func:`draw_fusion` with leading dims
        ``d_shape`` / ``g_shape`` and ``fusions`` (``num`` is not used: the
        number of generations per update is ``fusions``)."""
        gen = modules['generator']
        like = next(gen.parameters())

        def draw(shape: Tuple[int, ...]) -> TensorDict:
            rand = draw_fusion(shape + (self.fusions, ), self.max_shots,
                               gen.map_size**2, gen.num_fused, generator)
            return {k: v.to(like.device) for k, v in rand.items()}

        return {'d': draw(d_shape), 'g': draw(g_shape)}

    def _fuse(self, nets, shots: Tensor,
              rand: TensorDict) -> Tuple[Tensor, Tensor, FusionNoise]:
        noise = fusion_noise(rand, shots.shape[0])
        tasks = shots[None].expand(self.fusions, *shots.shape)
        fake, matches = nets.call('generator', tasks, noise)
        return fake, matches, noise

    def d_loss(self, nets, *, real: Tensor, shots: Tensor,
               label: Optional[Tensor], rand: TensorDict) -> Tensor:
        """D's loss for one update of one task."""
        fake, _, _ = self._fuse(nets, shots, rand)
        labels = None if label is None else label.expand(real.shape[0])
        return d_loss(lambda x: nets.call('discriminator', x), real, labels,
                      fake, self.weights, nets.backend)[0]

    def g_loss(self, nets, *, real: Tensor, shots: Tensor,
               label: Optional[Tensor], rand: TensorDict) -> Tensor:
        """G's loss for one update of one task."""
        fake, matches, noise = self._fuse(nets, shots, rand)
        tasks = shots[None].expand(self.fusions, *shots.shape)
        recon = local_reconstruction_loss(tasks, fake, noise, matches,
                                          nets.modules['generator'].map_size)
        labels = None if label is None else label.expand(self.fusions)
        loss = g_loss(lambda x: nets.call('discriminator', x), fake, labels,
                      recon, self.weights)[0]
        if self.mode_seeking:
            coefficients = noise.coefficients
            loss = loss + self.mode_seeking * mode_seeking_loss(
                fake[:-1], fake[1:], coefficients[:-1], coefficients[1:])
        return loss
