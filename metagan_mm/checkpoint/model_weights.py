"""Load a checkpoint's weights into a model, strictly."""
import glob
import os.path as osp
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from torch import Tensor, nn

from .safe_load import load_checkpoint_file

#: Keys of an EMA generator in mmagic models (``ExponentialMovingAverage``).
EMA_PREFIX = 'generator_ema.module.'
_LISTED = 8  # keys named per kind of mismatch


class CheckpointMismatchError(ValueError):
    """A checkpoint's weights do not fit the model built from the config."""


def _named(keys: List[str]) -> str:
    more = len(keys) - _LISTED
    return ', '.join(keys[:_LISTED]) + (f' (+{more} more)' if more > 0 else '')


def _mismatches(expected: Mapping[str, Tensor],
                given: Mapping[str, Any]) -> List[str]:
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    shapes = sorted(
        f'{k} {tuple(given[k].shape)} vs {tuple(expected[k].shape)}'
        for k in set(expected) & set(given)
        if not isinstance(given[k], Tensor)
        or given[k].shape != expected[k].shape)
    problems = []
    if missing:
        problems.append(f'{len(missing)} weights of the model are missing '
                        f'from it: {_named(missing)}')
    if unexpected:
        problems.append(f'{len(unexpected)} of its weights are not in the '
                        f'model: {_named(unexpected)}')
    if shapes:
        problems.append(f'{len(shapes)} weights have other shapes '
                        f'(checkpoint vs model): {_named(shapes)}')
    return problems


def model_state_dict(checkpoint: Any, path: str) -> Dict[str, Tensor]:
    """The model weights of an mmengine checkpoint (``state_dict``)."""
    state = checkpoint.get('state_dict') if isinstance(checkpoint,
                                                       Mapping) else None
    if not isinstance(state, Mapping) or not state:
        raise CheckpointMismatchError(
            f'checkpoint {path} holds no model weights (its "state_dict" '
            'is missing or empty): it is not a checkpoint written by '
            'tools/train.py. Pass a work_dirs/<config>/iter_N.pth file.')
    return {re.sub(r'^module\.', '', k): v for k, v in state.items()}


def trained_with(checkpoint: Any) -> str:
    """Which config a checkpoint of ``tools/train.py`` was trained with.

    mmengine names each run ``<config name>_<YYYYmmdd>_<HHMMSS>`` and keeps
    it in the checkpoint's ``meta``; the config is looked up under
    ``configs/`` of this repository.

    Returns:
        str: A phrase to end an error message with ('' if unknown).
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    name = str((meta or {}).get('experiment_name') or '')
    stem = re.sub(r'_\d{8}_\d{6}$', '', name)
    if not stem:
        return ''
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    found = sorted(
        glob.glob(
            osp.join(root, 'configs', '**', f'{stem}.py'), recursive=True))
    where = osp.relpath(found[0], root) if found else f'{stem}.py'
    return (f' It was trained with the config {where} (run {name}); its '
            "full config text, with any --cfg-options, is in the checkpoint's "
            "meta['cfg'].")


def check_model_weights(model: nn.Module,
                        checkpoint: Any,
                        path: str,
                        may_lack: Sequence[str] = ()) -> Dict[str, Tensor]:
    """The checkpoint's model weights, if they fit ``model`` exactly.

    Args:
        model (nn.Module): The model built from the config.
        checkpoint: What the checkpoint file holds.
        path (str): Its name, for the messages.
        may_lack (sequence of str): Submodules of ``model`` whose weights
            the checkpoint may lack altogether (they keep the values the
            config gave them); any it has must fit.

    Returns:
        dict: Its ``state_dict`` (without a ``module.`` prefix).

    Raises:
        CheckpointMismatchError: It has no weights, misses some of the
            model's, has others, or other shapes; the message names them
            and the config it was trained with.
    """
    try:
        state = model_state_dict(checkpoint, path)
    except CheckpointMismatchError as err:
        raise CheckpointMismatchError(f'{err}{trained_with(checkpoint)}') \
            from None
    expected = model.state_dict()
    for name in may_lack:
        own = [k for k in expected if k.startswith(f'{name}.')]
        if not any(k in state for k in own):
            for k in own:
                del expected[k]
    problems = _mismatches(expected, state)
    if problems:
        raise CheckpointMismatchError(
            f'checkpoint {path} does not fit the model '
            f'{type(model).__name__} built from the config: ' +
            '; '.join(problems) + '. The config and the checkpoint probably '
            'belong to different runs: pass the config the checkpoint was '
            f'trained with.{trained_with(checkpoint)}')
    return state


def load_model_weights(model: nn.Module,
                       path: str,
                       use_ema: bool = False,
                       trust: Optional[bool] = None,
                       log: Callable[[str], Any] = print) -> str:
    """Load a training checkpoint into ``model``; every weight must fit.

    Args:
        model (nn.Module): The model built from the training config.
        path (str): Checkpoint written by ``tools/train.py``.
        use_ema (bool): Use the checkpoint's EMA generator weights as the
            generator's (the meta-weights otherwise).
        trust (bool, optional): See
            :func:`~metagan_mm.checkpoint.load_checkpoint_file`.
        log (callable): Where the line saying which weights were used goes.

    Returns:
        str: That line.

    Raises:
        CheckpointMismatchError: The checkpoint has no weights, misses
            some of the model's, has others, or other shapes; or EMA weights
            were asked for and it has none.
    """
    state = check_model_weights(model, load_checkpoint_file(path, trust=trust),
                                path)
    model.load_state_dict(state, strict=True)
    has_ema = any(k.startswith(EMA_PREFIX) for k in state)
    if use_ema:
        if not has_ema:
            raise CheckpointMismatchError(
                f'EMA weights were asked for but checkpoint {path} has none '
                '(the run had no model.ema_config). Leave out --ema to use '
                'its meta-weights.')
        model.generator.load_state_dict(
            model.generator_ema.module.state_dict())
        line = f'loaded {path}: generator = EMA weights (generator_ema)'
    else:
        line = f'loaded {path}: generator = meta-weights'
        if has_ema:
            line += ' (the checkpoint also has EMA weights: --ema uses them)'
    log(line)
    return line
