"""Refuse meta-training that takes derivatives a network cannot take.

Meta-training differentiates each network more than once
(:func:`derivative_orders`): the WGAN-GP gradient penalty is a gradient of
D w.r.t. its input that D's update differentiates again (order 2), and
second-order meta-gradients (MAML, Meta-SGD) differentiate the inner
updates once more (G: order 2, D: order 2, or 3 with the penalty). Some
layers stop earlier: torch's ``batch_norm`` (BatchNorm and InstanceNorm, in
training mode, with or without running statistics) has no derivatives of
order 3, an autograd Function without a differentiable backward none of
order 2. :func:`check_derivative_orders` probes both networks at build
time and names the layer and the fixes instead of torch's raw error in the
first meta-iteration.
"""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_flatten, tree_map

from ...architectures import condition_size
from ..inner_loop import InnerLoop
from ..objective import D, G, GANLosses
from ..params import functional_call, meta_buffers

# Errors a derivative that a layer does not implement raises.
PROBE_ERRORS = (RuntimeError, NotImplementedError)
_LABELS = {G: 'generator', D: 'discriminator'}


class DerivativeOrderError(RuntimeError):
    """A network cannot be differentiated as many times as meta-training
    needs (the message names the layer and the fixes)."""


#: A gradient penalty as the error message names it: (what it is, how to
#: leave it out).
Penalty = Tuple[str, str]
#: GANLosses' penalty.
WGAN_GP_PENALTY: Penalty = (
    "the WGAN-GP gradient penalty, model.inner_loop."
    "loss='wgan-gp' and gp_weight > 0",
    "a loss without gradient penalty: model.inner_loop."
    "loss='hinge' or 'nonsaturating', or gp_weight=0")


def gradient_penalty(inner: InnerLoop) -> Optional[Penalty]:
    """The gradient penalty of the inner loop's D loss, if it has one.

    Objectives other than :class:`GANLosses` declare theirs with a
    ``gradient_penalty`` attribute: the config option that sets its weight
    (e.g. ``'model.objective.r1'``), or a false value for none.

    Returns:
        ``(what it is, how to leave it out)`` for the error message, or
        None.
    """
    objective = inner.objective
    if isinstance(objective, GANLosses):
        used = objective.loss == 'wgan-gp' and objective.gp_weight != 0
        return WGAN_GP_PENALTY if used else None
    option = getattr(objective, 'gradient_penalty', None)
    if not option:
        return None
    return (f'the gradient penalty of {type(objective).__name__}, {option} '
            '> 0', f'no gradient penalty: {option}=0')


def derivative_orders(second_order: bool,
                      gradient_penalty: bool) -> Dict[str, int]:
    """Highest order of derivatives meta-training takes of each network.

    Args:
        second_order: Meta-gradients through the inner updates (MAML or
            Meta-SGD without ``first_order``).
        gradient_penalty: The D loss has a gradient penalty.

    Returns:
        ``{'generator': n, 'discriminator': m}``: first order, G 1 and D 1
        (2 with the penalty); second order one more each.
    """
    extra = int(second_order)
    return {G: 1 + extra, D: 1 + extra + int(gradient_penalty)}


def _scalar(out: Any) -> Optional[Tensor]:
    """Sum of the differentiable floating tensors of an output pytree."""
    leaves = [
        t for t in tree_flatten(out)[0]
        if isinstance(t, Tensor) and t.is_floating_point() and t.requires_grad
    ]
    return sum(t.sum() for t in leaves) if leaves else None


def _failure(run: Callable[[], Any], wrt: Sequence[Tensor],
             order: int) -> Optional[BaseException]:
    """Differentiate ``run()`` ``order`` times w.r.t. ``wrt``.

    Each derivative after the first is taken of the squared norm of the
    previous one, as a gradient penalty and meta-gradients through inner
    gradients do.

    Returns:
        The error that stopped it, or None if every order worked (or became
        constant, so that higher ones are zero).
    """
    with torch.enable_grad():
        value = _scalar(run())
        for k in range(1, order + 1):
            if value is None:
                return None
            try:
                grads = torch.autograd.grad(
                    value, wrt, create_graph=k < order, allow_unused=True)
            except PROBE_ERRORS as err:
                return err
            live = [g for g in grads if g is not None and g.requires_grad]
            value = sum(g.square().sum() for g in live) if live else None
    return None


def _module_failure(module: nn.Module,
                    order: int,
                    args: Tuple[Any, ...],
                    kwargs: Optional[Dict[str, Any]] = None
                    ) -> Optional[BaseException]:
    """:func:`_failure` of ``module(*args, **kwargs)`` w.r.t. copies of its
    parameters and floating inputs (its own tensors are left untouched)."""
    params = {
        k: v.detach().requires_grad_(True)
        for k, v in module.named_parameters() if v.requires_grad
    }
    inputs: List[Tensor] = []

    def leaf(t: Any) -> Any:
        if isinstance(t, Tensor) and t.is_floating_point():
            t = t.detach().requires_grad_(True)
            inputs.append(t)
        return t

    args, kwargs = tree_map(leaf, (args, kwargs or {}))

    def run() -> Any:
        buffers = meta_buffers(module, clone=True)
        return functional_call(module, params, buffers, args, kwargs)

    return _failure(run, [*params.values(), *inputs], order)


def _leaf_calls(module: nn.Module,
                x: Tuple[Tensor,
                         ...]) -> List[Tuple[str, nn.Module, tuple, dict]]:
    """Every call of a leaf submodule in one forward pass on ``x``, with
    its (detached) inputs."""
    calls: List[Tuple[str, nn.Module, tuple, dict]] = []
    handles = []
    for name, mod in module.named_modules():
        if name and next(mod.children(), None) is None:
            handles.append(
                mod.register_forward_pre_hook(
                    lambda m, a, kw, name=name: calls.append((name, m, a, kw)),
                    with_kwargs=True))
    try:
        with torch.no_grad():
            functional_call(module, dict(module.named_parameters()),
                            meta_buffers(module, clone=True), x)
    finally:
        for handle in handles:
            handle.remove()
    return calls


def _culprit(module: nn.Module, x: Tuple[Tensor, ...],
             order: int) -> Optional[Tuple[str, nn.Module]]:
    """The first leaf submodule that fails the probe on its own."""
    for name, mod, args, kwargs in _leaf_calls(module, x):
        try:
            if _module_failure(mod, order, args, kwargs) is not None:
                return name, mod
        except PROBE_ERRORS:  # the leaf cannot run alone: not the culprit
            continue
    return None


def _problem(name: str, module: nn.Module, x: Tuple[Tensor, ...], order: int,
             second_order: bool, gp: Optional[Penalty]) -> Optional[str]:
    """Why ``module`` cannot be meta-trained, with the fixes; None if it
    can (``gp``: :func:`gradient_penalty`)."""
    err = _module_failure(module, order, x)
    if err is None:
        return None
    supported = next((k for k in range(order - 1, 1, -1)
                      if _module_failure(module, k, x) is None), 1)
    label = f'the {_LABELS[name]} {type(module).__name__}'
    found = _culprit(module, x, order)
    where = (f'its layer {found[0]} ({type(found[1]).__name__})'
             if found else 'it')
    penalty = gp is not None and name == D
    reasons = ['second-order meta-gradients, model.first_order=False'
               ] if second_order else []
    why = ', with '.join(reasons + [gp[0]] if penalty else reasons)
    first = (str(err).splitlines() or [''])[0].rstrip('.')
    fixes = []
    if second_order and order - 1 <= supported:
        fixes.append('first-order meta-gradients: model.first_order=True '
                     f'(order {order - 1})')
    if penalty and order - 1 <= supported:
        fixes.append(f'{gp[1]} (order {order - 1})')
    if second_order and penalty and order - 1 > supported >= order - 2:
        fixes.append('both model.first_order=True and '
                     f'{gp[1].split(":")[0]} (order {order - 2})')
    if found and isinstance(found[1], nn.modules.batchnorm._NormBase):
        fixes.append(
            f'a normalisation without torch\'s batch_norm in the '
            f'{_LABELS[name]}: LayerNorm, GroupNorm (for mmagic\'s DCGAN '
            "default_norm_cfg=dict(type='GN', num_groups=1)) or none "
            '(BatchNorm and InstanceNorm use batch_norm, whose derivatives '
            'stop at order 2, with or without running statistics)')
    else:
        fixes.append(f'a {_LABELS[name]} whose layers are differentiable '
                     f'{order} times')
    return (f'Meta-training takes derivatives of order {order} of {label} '
            f'({why}), but {where} supports only order {supported} '
            f'({type(err).__name__}: {first}). Fixes: ' + '; or '.join(fixes) +
            '.')


def _condition(module: nn.Module, like: Tensor) -> Tuple[Tensor, ...]:
    """A zero condition for a conditioned network, else nothing."""
    size = condition_size(module)
    if size is None:
        return ()
    return (like.new_zeros(like.shape[0], size), )


def _generator_inputs(inner: InnerLoop, seeded: torch.Generator,
                      like: Tensor) -> Tuple[Any, ...]:
    """Two seeded inputs of G: noise vectors (and a zero condition), or,
    for a generator of shots (no ``noise_size``; ``input_shape`` and
    ``sample_noise(num, k_shot)``, as a local-fusion generator), two
    fusions of two random shots each."""
    gen = inner.generator
    if inner.noise_size is not None:
        z = torch.randn(2, inner.noise_size, generator=seeded)
        z = z.to(like.device, like.dtype)
        return (z, ) + _condition(gen, z)
    shots = torch.rand(2, 2, *gen.input_shape, generator=seeded) * 2 - 1
    noise = gen.sample_noise(2, 2, seeded, like.device)
    return shots.to(like.device, like.dtype), noise


def derivative_problems(inner: InnerLoop,
                        second_order: bool,
                        images: Optional[Tensor] = None) -> List[str]:
    """Probe G and D for the derivatives meta-training takes of them.

    Runs on copies (the networks' parameters, buffers and the global random
    state are left as they are): G on two seeded noise vectors, D on
    ``images`` (default: G's output).

    Args:
        inner: The inner loop (networks and loss).
        second_order: Second-order meta-gradients.
        images: ``[N, C, H, W]`` D inputs (N >= 2).

    Returns:
        One message per network that fails, naming its failing layer, the
        order needed and the fixes; empty if both work.
    """
    gp = gradient_penalty(inner)
    orders = derivative_orders(second_order, gp is not None)
    if max(orders.values()) < 2:
        return []
    gen, disc = inner.generator, inner.discriminator
    ref = next(gen.parameters())
    devices = [ref.device.index or 0] if ref.device.type == 'cuda' else []
    problems = []
    with torch.random.fork_rng(devices=devices):
        g_in = _generator_inputs(inner, torch.Generator().manual_seed(0), ref)
        if images is None:
            with torch.no_grad():
                images = functional_call(gen, dict(gen.named_parameters()),
                                         meta_buffers(gen, clone=True), g_in)
            if isinstance(images, tuple):  # (images, extras), as fusion's
                images = images[0]
        d_in = (images.detach(), ) + _condition(disc, images)
        for name, module, x in ((G, gen, g_in), (D, disc, d_in)):
            if orders[name] >= 2:
                problem = _problem(name, module, x, orders[name], second_order,
                                   gp)
                if problem is not None:
                    problems.append(problem)
    return problems


def check_derivative_orders(inner: InnerLoop, second_order: bool) -> None:
    """Raise before training if G or D cannot be differentiated as often
    as meta-training needs (see :func:`derivative_problems`).

    Raises:
        DerivativeOrderError: naming the network, its layer, the order
            needed and the fixes.
    """
    problems = derivative_problems(inner, second_order)
    if problems:
        raise DerivativeOrderError(' '.join(problems))


def second_order_error(inner_loop: InnerLoop, tasks: Tensor,
                       err: BaseException) -> BaseException:
    """Turn a second-order failure into a clear error naming the module.

    Probes G (on noise) and D (on two task images) for the orders second
    order needs. If neither is found to fail, the original error is
    returned unchanged.
    """
    problems = derivative_problems(inner_loop, True, tasks[0, :2])
    if not problems:
        return err
    return DerivativeOrderError(' '.join(problems))
