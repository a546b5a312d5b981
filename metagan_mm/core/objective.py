"""The GAN objective of one task: what an inner D or G update minimises
(torch only).

An objective is an object with three methods (:class:`GANObjective`); the
inner loop calls them for one task, with the networks bound to that task's
fast weights (:class:`Nets`), and never looks inside. :class:`GANLosses` is
the one shipped today: WGAN-GP, non-saturating, hinge or RaGAN, with FAML's
optional L1 reconstruction and mode-seeking terms. Another objective (e.g.
local-fusion nets with a class head) implements the same three methods and
is handed to :class:`~metagan_mm.core.InnerLoop` as ``objective=``.
"""
from dataclasses import dataclass, replace
from typing import Dict, Mapping, Optional, Protocol, Tuple

import torch
from torch import Tensor, nn

from ..architectures import condition_size
from . import gan_losses
from .amp import Amp
from .faml_losses import l1_reconstruction_loss, mode_seeking_loss
from .params import TensorDict, functional_call

#: The meta-modules' names: generator, discriminator, condition encoder.
G, D, E = 'generator', 'discriminator', 'encoder'
Rand = Dict[str, TensorDict]  # 'd' / 'g' -> name -> tensor


@dataclass(frozen=True)
class Nets:
    """The networks of one task, bound to fast weights (used as functions;
    the modules' own tensors are never touched).

    Attributes:
        modules: ``'generator'``, ``'discriminator'`` (and ``'encoder'``).
        params: Fast weights per module.
        buffers: Buffers per module.
        backend: How a loss takes an input gradient (the WGAN-GP penalty):
            ``'autograd'`` (eager) or ``'func'`` (inside ``torch.func``
            transforms); set by the inner loop.
        amp: Mixed precision (``inner_loop.amp``): every module runs under
            autocast and its outputs are cast back to its weights' dtype
            (:meth:`~metagan_mm.core.amp.Amp.run`). None: full precision.
    """

    modules: Mapping[str, nn.Module]
    params: Mapping[str, TensorDict]
    buffers: Mapping[str, TensorDict]
    backend: str = 'autograd'
    amp: Optional[Amp] = None

    def using(self, **params: TensorDict) -> 'Nets':
        """The same networks with other fast weights for some modules."""
        return replace(self, params={**self.params, **params})

    def call(self, name: str, *args: Tensor) -> Tensor:
        """Run module ``name`` on ``args`` with its fast weights."""
        params = self.params[name]

        def run() -> Tensor:
            return functional_call(self.modules[name], params,
                                   self.buffers.get(name), args)

        like = next(iter(params.values()), None)
        return run() if self.amp is None or like is None else self.amp.run(
            run, like)

    def condition(self, shots: Tensor) -> Optional[Tensor]:
        """``E(shots)``, the condition of a task (None without encoder)."""
        return self.call(E, shots) if E in self.params else None

    def generate(self,
                 z: Tensor,
                 condition: Optional[Tensor] = None) -> Tensor:
        """``G(z)`` or ``G(z, condition)``."""
        if condition is None:
            return self.call(G, z)
        return self.call(G, z, condition)

    def discriminate(self,
                     x: Tensor,
                     condition: Optional[Tensor] = None) -> Tensor:
        """``D(x)``, or ``D(x, condition)`` for a conditioned D."""
        if condition is None or condition_size(self.modules[D]) is None:
            return self.call(D, x)
        return self.call(D, x, condition)


class GANObjective(Protocol):
    """What one task's inner D and G updates minimise.

    The inner loop draws the randomness of all updates up front with
    :meth:`sample` (outside any vmap, so vmapped and looped tasks see the
    same numbers), then per update calls :meth:`d_loss` (differentiated
    w.r.t. D's fast weights only) or :meth:`g_loss` (w.r.t. every other
    module's: G, and E when there is one).

    Arguments named ``real`` are the images D scores as real; ``shots``
    are the task's images the generator is conditioned on (embedded by E,
    or fused by a fusion generator); ``label`` is the task's class index
    (a ``[]`` long tensor) or None. An objective whose D loss has a
    gradient penalty names the option of its weight in a
    ``gradient_penalty`` attribute (the build-time derivative-order check
    counts one more order of D and names the option in its fixes).
    """

    def sample(self, modules: Mapping[str, nn.Module], *, num: int,
               d_shape: Tuple[int, ...], g_shape: Tuple[int, ...],
               generator: Optional[torch.Generator]) -> Rand:
        """``{'d': ..., 'g': ...}``: the randomness of D updates (leading
        dims ``d_shape``) and G updates (``g_shape``) of ``num`` samples
        each, on the device and in the dtype of G's parameters."""

    def d_loss(self, nets: Nets, *, real: Tensor, shots: Tensor,
               label: Optional[Tensor], rand: TensorDict) -> Tensor:
        """D's scalar loss for one update (``rand``: one ``'d'`` entry)."""

    def g_loss(self, nets: Nets, *, real: Tensor, shots: Tensor,
               label: Optional[Tensor], rand: TensorDict) -> Tensor:
        """G's (and E's) scalar loss for one update (one ``'g'`` entry)."""


@dataclass(frozen=True)
class GANLosses:
    """Today's objective: a GAN loss by name, FAML's optional terms.

    D: ``d_loss(loss; real, G(z_d, E(shots)))`` with fakes constant for D
    (and WGAN-GP's penalty at ``alpha``-interpolates). G (and E):
    ``g_loss(D(G(z_g, c)))`` with ``c = E(shots)`` a constant for D, plus
    ``recon_weight * L1(G(z_g, c), real)`` and ``mode_seeking_weight *``
    the mode-seeking term of a second noise ``z2``.

    Attributes:
        noise_size: Noise size ``nz``.
        loss: One of :data:`~metagan_mm.core.gan_losses.LOSS_NAMES`.
        gp_weight: WGAN-GP penalty weight.
        recon_weight: L1 reconstruction weight (needs an encoder).
        mode_seeking_weight: Mode-seeking weight (needs an encoder).
    """

    noise_size: int
    loss: str = 'wgan-gp'
    gp_weight: float = 10.0
    recon_weight: float = 0.0
    mode_seeking_weight: float = 0.0

    def sample(self, modules: Mapping[str, nn.Module], *, num: int,
               d_shape: Tuple[int, ...], g_shape: Tuple[int, ...],
               generator: Optional[torch.Generator]) -> Rand:
        """``{'d': {'z': [*d_shape, num, nz], 'alpha': [*d_shape, num]},
        'g': {'z': [*g_shape, num, nz]}}`` (and ``'z2'`` in ``'g'`` for
        the mode-seeking term)."""
        like = next(modules[G].parameters())
        kw = dict(
            generator=generator,
            device=generator.device if generator is not None else 'cpu')
        nz = self.noise_size
        out = {
            'd': {
                'z': torch.randn(*d_shape, num, nz, **kw),
                'alpha': torch.rand(*d_shape, num, **kw)
            },
            'g': {
                'z': torch.randn(*g_shape, num, nz, **kw)
            }
        }
        if self.mode_seeking_weight:
            out['g']['z2'] = torch.randn(*g_shape, num, nz, **kw)
        return {
            k: {
                n: v.to(like.device, like.dtype)
                for n, v in d.items()
            }
            for k, d in out.items()
        }

    def d_loss(self, nets: Nets, *, real: Tensor, shots: Tensor,
               label: Optional[Tensor], rand: TensorDict) -> Tensor:
        """D's loss: ``real`` vs fakes of ``rand['z']``."""
        c = nets.condition(shots)
        fake = nets.generate(rand['z'], c)
        return gan_losses.d_loss(
            self.loss,
            lambda x: nets.discriminate(x, c),
            real=real,
            fake=fake,
            alpha=rand['alpha'],
            gp_weight=self.gp_weight,
            backend=nets.backend)

    def g_loss(self, nets: Nets, *, real: Tensor, shots: Tensor,
               label: Optional[Tensor], rand: TensorDict) -> Tensor:
        """G's (and E's) loss on fakes of ``rand['z']``."""
        c = nets.condition(shots)
        fake = nets.generate(rand['z'], c)
        const = None if c is None else c.detach()
        real_out = nets.discriminate(real,
                                     const) if self.loss == 'ragan' else None
        loss = gan_losses.g_loss(self.loss, nets.discriminate(fake, const),
                                 real_out)
        if self.recon_weight:
            loss = loss + self.recon_weight * l1_reconstruction_loss(
                fake, real)
        if self.mode_seeking_weight:
            other = nets.generate(rand['z2'], c)
            loss = loss + self.mode_seeking_weight * mode_seeking_loss(
                fake, other, rand['z'], rand['z2'])
        return loss
