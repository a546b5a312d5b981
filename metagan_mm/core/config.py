"""Configuration of the inner (task-adaptation) loop (torch only)."""
import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple, Union

from .amp import Amp
from .batching import Batching
from .gan_losses import LOSS_NAMES

OPTIMIZERS = ('sgd', 'adam')

# Settings that were replaced: old key -> what to write instead.
RENAMED = {
    'vmap':
    "{prefix}.batching=dict(mode='vmap'|'loop'|'auto') (vmap=False "
    "is mode='loop')",
    'vmap_chunk_size':
    "{prefix}.batching=dict(chunk='auto'|int|None)",
    'create_graph':
    'model.first_order of MAMLGAN / MetaSGDGAN (Reptile is '
    'first order)',
}


def _fail(key: str, value: Any, rule: str, fix: str) -> None:
    raise ValueError(f'InnerLoopConfig.{key}={value!r} is invalid: {key} '
                     f'must be {rule}. Fix: {fix}')


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive(key: str, value: Any) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (ok and math.isfinite(value) and value > 0):
        _fail(key, value, 'a finite number > 0', f'set {key} to e.g. 1e-4.')


@dataclass
class InnerLoopConfig:
    """Hyper-parameters of the inner loop.

    One inner *step* is ``d_steps_per_g_step`` discriminator updates followed
    by one generator update, so ``steps`` steps make
    ``steps * d_steps_per_g_step`` D updates and ``steps`` G updates.

    Attributes:
        steps: Number of inner steps (>= 1).
        g_lr: Generator inner learning rate (> 0); replaced per parameter by
            learned rates when those are given (Meta-SGD).
        d_lr: Discriminator inner learning rate (> 0).
        optimizer: ``'sgd'`` or ``'adam'`` (functional, state per task).
        betas: Adam betas, each in [0, 1).
        eps: Adam epsilon (> 0).
        d_steps_per_g_step: D updates per G update (>= 1).
        e_lr: Inner learning rate of a condition encoder (> 0; None: the
            generator's ``g_lr``). Only used by conditioned models.
        loss: GAN loss name: ``'wgan-gp'``, ``'nonsaturating'``,
            ``'hinge'`` or ``'ragan'`` (relativistic average, FAML's).
        gp_weight: Gradient-penalty weight for ``'wgan-gp'`` (>= 0).
        recon_weight: Weight of the L1 term between each generation and the
            real image at the same position of the task (>= 0; needs an
            encoder). With a per-image encoder (FAML) generation ``i`` is
            conditioned on image ``i``; with a pooled one on the whole set.
        mode_seeking_weight: Weight of the mode-seeking term (>= 0; needs an
            encoder): a second generation from other noise, the reciprocal
            of their distance ratio (FAML, MSGAN).
        grad_checkpoint: Gradient checkpointing of the inner steps in second
            order (see :meth:`InnerLoop.adapt`): memory that no longer grows
            with the steps by the activations, for about one extra run of
            each step. Tasks then run in a loop.
        batching: How the tasks of a meta-batch run, a :class:`Batching` or
            its dict: ``mode`` (``'auto'``, ``'vmap'``, ``'loop'``) and
            ``chunk`` (most tasks per vmap: ``'auto'``, an int or None).
        compile: Compute each inner gradient with a ``torch.compile``'d
            :mod:`torch.func` function (first order only; second order,
            networks with buffers and compiler failures run eagerly with
            the reason logged once). The tasks then run in a loop
            (torch.compile does not compile inside the vmap over tasks).
            Off by default: the README's Benchmarks section has the
            measured trade-off.
        amp: Mixed precision of the networks in the inner loop, an
            :class:`~metagan_mm.core.amp.Amp` or its dict
            (``dict(dtype='auto'|'bfloat16'|'float16')``; ``tools/train.py
            --amp`` sets ``dict(dtype='auto')``). None (default): fp32.
    """

    steps: int = 5
    g_lr: float = 1e-4
    d_lr: float = 1e-4
    e_lr: Optional[float] = None
    optimizer: str = 'adam'
    betas: Tuple[float, float] = (0.5, 0.9)
    eps: float = 1e-8
    d_steps_per_g_step: int = 1
    loss: str = 'wgan-gp'
    gp_weight: float = 10.0
    recon_weight: float = 0.0
    mode_seeking_weight: float = 0.0
    grad_checkpoint: bool = False
    compile: bool = False
    batching: Union[Batching, Mapping[str,
                                      Any]] = field(default_factory=Batching)
    amp: Optional[Union[Amp, Mapping[str, Any]]] = None

    def __post_init__(self) -> None:
        if isinstance(self.batching, Mapping):
            self.batching = Batching.from_dict(self.batching)
        if self.amp is not None and not isinstance(self.amp, Amp):
            self.amp = Amp.from_dict(self.amp)
        self.validate()

    @classmethod
    def from_dict(cls,
                  cfg: Mapping[str, Any],
                  prefix: str = 'model.inner_loop') -> 'InnerLoopConfig':
        """Build from a config dict, naming unknown, close and renamed keys.

        Raises:
            KeyError: For a key that is not an inner-loop setting.
        """
        fields = [f.name for f in dataclasses.fields(cls)]
        for key in cfg:
            if key in RENAMED:
                raise KeyError(f'{prefix}.{key} was replaced: use ' +
                               RENAMED[key].format(prefix=prefix) + '.')
            if key not in fields:
                close = difflib.get_close_matches(key, fields, n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ''
                raise KeyError(f"{prefix} has no setting '{key}'.{hint} "
                               f'Valid settings: {", ".join(fields)}.')
        return cls(**cfg)

    def lr(self, name: str) -> float:
        """Configured inner learning rate of the meta-module ``name``."""
        rates = {'generator': self.g_lr, 'discriminator': self.d_lr}
        rates['encoder'] = self.g_lr if self.e_lr is None else self.e_lr
        return rates[name]

    def validate(self) -> None:
        """Raise a ValueError naming the first invalid key and its fix."""
        if not (_is_int(self.steps) and self.steps >= 1):
            _fail('steps', self.steps, 'an int >= 1', 'set steps=1 or more.')
        _positive('g_lr', self.g_lr)
        _positive('d_lr', self.d_lr)
        if self.e_lr is not None:
            _positive('e_lr', self.e_lr)
        if self.optimizer not in OPTIMIZERS:
            _fail('optimizer', self.optimizer, f'one of {list(OPTIMIZERS)}',
                  "use optimizer='sgd' or optimizer='adam'.")
        self._validate_adam()
        if not (_is_int(self.d_steps_per_g_step)
                and self.d_steps_per_g_step >= 1):
            _fail('d_steps_per_g_step', self.d_steps_per_g_step, 'an int >= 1',
                  'use 1 to alternate one D and one G update.')
        if self.loss not in LOSS_NAMES:
            _fail('loss', self.loss, f'one of {list(LOSS_NAMES)}',
                  "use e.g. loss='wgan-gp'.")
        gp = self.gp_weight
        if not (isinstance(gp,
                           (int, float)) and math.isfinite(gp) and gp >= 0):
            _fail('gp_weight', gp, 'a finite number >= 0', 'use e.g. 10.')
        for key in ('recon_weight', 'mode_seeking_weight'):
            w = getattr(self, key)
            if not (isinstance(w,
                               (int, float)) and math.isfinite(w) and w >= 0):
                _fail(key, w, 'a finite number >= 0', f'use e.g. {key}=1.')
        for key in ('grad_checkpoint', 'compile'):
            if not isinstance(getattr(self, key), bool):
                _fail(key, getattr(self, key), 'a bool',
                      f'set {key}=True/False.')

    def _validate_adam(self) -> None:
        betas = tuple(self.betas) if isinstance(self.betas,
                                                (list, tuple)) else ()
        if len(betas) != 2 or not all(
                isinstance(b, (int, float)) and 0 <= b < 1 for b in betas):
            _fail('betas', self.betas, 'two numbers in [0, 1)',
                  'use e.g. betas=(0.5, 0.9).')
        self.betas = (float(betas[0]), float(betas[1]))
        _positive('eps', self.eps)
