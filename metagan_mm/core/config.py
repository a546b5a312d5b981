"""Configuration of the inner (task-adaptation) loop (torch only)."""
import math
from dataclasses import dataclass
from typing import Any, Tuple, Union

from .gan_losses import LOSS_NAMES

OPTIMIZERS = ('sgd', 'adam')


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
        loss: GAN loss name: ``'wgan-gp'``, ``'nonsaturating'`` or ``'hinge'``.
        gp_weight: Gradient-penalty weight for ``'wgan-gp'`` (>= 0).
        create_graph: Default for :meth:`InnerLoop.adapt`: keep the inner
            gradients in the autograd graph (second order). False means first
            order (inner gradients treated as constants).
        vmap: Allow :meth:`InnerLoop.adapt_batched` to use ``torch.func.vmap``;
            False always runs tasks sequentially.
        grad_checkpoint: Gradient checkpointing of the inner steps in second
            order (see :meth:`InnerLoop.run_task`): memory that no longer
            grows with the steps by the activations, for about one extra
            forward per step. Tasks then run sequentially.
        vmap_chunk_size: Most tasks batched into one vmap; a larger
            meta-batch runs as a few equal chunks (lowers the peak memory
            of the first-order batched paths, not of second order). ``None``: all tasks at once. ``'auto'`` (default): all
            at once on accelerators; on the CPU as many tasks as keep the
            stacked G+D weights under ``CPU_CHUNK_PARAMS`` (16M) parameters,
            where one vmap over more tasks measured slower per task (e.g. 8
            tasks of FIGR's full-width nets).
    """

    steps: int = 5
    g_lr: float = 1e-4
    d_lr: float = 1e-4
    optimizer: str = 'adam'
    betas: Tuple[float, float] = (0.5, 0.9)
    eps: float = 1e-8
    d_steps_per_g_step: int = 1
    loss: str = 'wgan-gp'
    gp_weight: float = 10.0
    create_graph: bool = False
    vmap: bool = True
    grad_checkpoint: bool = False
    vmap_chunk_size: Union[int, str, None] = 'auto'

    def __post_init__(self) -> None:
        self.validate()

    @property
    def first_order(self) -> bool:
        """True when inner gradients are not differentiated through."""
        return not self.create_graph

    def validate(self) -> None:
        """Raise a ValueError naming the first invalid key and its fix."""
        if not (_is_int(self.steps) and self.steps >= 1):
            _fail('steps', self.steps, 'an int >= 1', 'set steps=1 or more.')
        _positive('g_lr', self.g_lr)
        _positive('d_lr', self.d_lr)
        if self.optimizer not in OPTIMIZERS:
            _fail('optimizer', self.optimizer, f'one of {list(OPTIMIZERS)}',
                  "use optimizer='sgd' or optimizer='adam'.")
        self._validate_adam()
        if not (_is_int(self.d_steps_per_g_step)
                and self.d_steps_per_g_step >= 1):
            _fail('d_steps_per_g_step', self.d_steps_per_g_step,
                  'an int >= 1', 'use 1 to alternate one D and one G update.')
        if self.loss not in LOSS_NAMES:
            _fail('loss', self.loss, f'one of {list(LOSS_NAMES)}',
                  "use e.g. loss='wgan-gp'.")
        gp = self.gp_weight
        if not (isinstance(gp, (int, float)) and math.isfinite(gp) and gp >= 0):
            _fail('gp_weight', gp, 'a finite number >= 0', 'use e.g. 10.')
        for key in ('create_graph', 'vmap', 'grad_checkpoint'):
            if not isinstance(getattr(self, key), bool):
                _fail(key, getattr(self, key), 'a bool', f'set {key}=True/False.')
        chunk = self.vmap_chunk_size
        if not (chunk is None or chunk == 'auto'
                or (_is_int(chunk) and chunk >= 1)):
            _fail('vmap_chunk_size', chunk, "an int >= 1, None or 'auto'",
                  "use e.g. vmap_chunk_size=8, or None for all tasks at once.")

    def _validate_adam(self) -> None:
        betas = tuple(self.betas) if isinstance(self.betas, (list, tuple)) else ()
        if len(betas) != 2 or not all(
                isinstance(b, (int, float)) and 0 <= b < 1 for b in betas):
            _fail('betas', self.betas, 'two numbers in [0, 1)',
                  'use e.g. betas=(0.5, 0.9).')
        self.betas = (float(betas[0]), float(betas[1]))
        _positive('eps', self.eps)
