"""Load checkpoint files without running code from them.

Checkpoints are untrusted input: they are shared between people, and a
pickle can name any Python callable.  :func:`load_checkpoint_file` keeps
torch's ``weights_only=True`` unpickler and allows, for that one load, only
the few types that mmengine and metagan-mm checkpoints contain besides
tensors and plain containers (:func:`allowed_globals`).  A file that needs
anything else is refused with :class:`UnsafeCheckpointError`, which names
the types and the explicit opt-in for a file the user trusts:
``--trust-checkpoint`` on every tool, or ``METAGAN_TRUST_CHECKPOINT=1``.
"""
import inspect
import os
import os.path as osp
import pickle
from typing import Any, List, Optional

import torch

#: Environment variable that trusts every checkpoint of the process.
TRUST_ENV = 'METAGAN_TRUST_CHECKPOINT'
TRUST_HINT = (f'If you trust whoever made this file, pass --trust-checkpoint '
              f'to the tool (or set {TRUST_ENV}=1, or trust=True in Python) '
              'to load it with full unpickling, which can run code.')


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint needs types that a safe load does not allow."""


class UnreadableCheckpointError(RuntimeError):
    """A checkpoint file is damaged, truncated or not a checkpoint."""


def _history_buffer_method(owner: Any, name: str) -> Any:
    """``getattr`` as a checkpoint may use it: a ``HistoryBuffer`` method.

    Each pickled ``HistoryBuffer`` names its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``; any other use is refused.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if owner is HistoryBuffer and not name.startswith('_') and \
            inspect.isfunction(getattr(HistoryBuffer, name, None)):
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'getattr({owner!r}, {name!r}) is not allowed in a checkpoint')


def allowed_globals() -> List[Any]:
    """The non-tensor types of mmengine and metagan-mm checkpoints.

    mmengine stores its message hub (``HistoryBuffer`` objects holding
    numpy arrays and naming their statistics methods) and numpy scalars in
    every checkpoint; everything else (weights, optimiser and scheduler
    states, config text) is tensors, numbers, strings and plain containers,
    which torch's safe unpickler allows by itself.
    """
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer
    from numpy.core.multiarray import _reconstruct, scalar
    dtypes = {
        type(np.dtype(name))
        for name in np.sctypeDict.values() if np.dtype(name).kind != 'O'
    }
    return [
        HistoryBuffer, _reconstruct, scalar, np.ndarray, np.dtype,
        *sorted(dtypes, key=lambda t: t.__name__),
        (_history_buffer_method, 'builtins.getattr')
    ]


def is_trusted(trust: Optional[bool] = None) -> bool:
    """``trust`` if given, else whether ``METAGAN_TRUST_CHECKPOINT`` is set."""
    if trust is not None:
        return bool(trust)
    return os.environ.get(TRUST_ENV,
                          '').strip().lower() not in ('', '0', 'false')


def _global_name(entry: Any) -> str:
    if isinstance(entry, tuple):  # (object, the name it stands for)
        return entry[1]
    return f'{entry.__module__}.{entry.__qualname__}'


def disallowed_globals(path: str) -> List[str]:
    """Names of the types/callables in ``path`` that a safe load refuses.

    Reads the pickle's opcodes without executing them (zip checkpoints);
    an empty list for other formats.
    """
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # not a zip checkpoint: let torch's message speak
        return []
    allowed = {_global_name(obj) for obj in allowed_globals()}
    allowed |= {name.replace('numpy.core', 'numpy._core') for name in allowed}
    return [name for name in names if name not in allowed]


def load_checkpoint_file(path: str,
                         map_location: Any = 'cpu',
                         trust: Optional[bool] = None) -> Any:
    """Load a checkpoint file; by default without running code from it.

    Args:
        path (str): The ``.pth`` file.
        map_location: As for :func:`torch.load`.
        trust (bool, optional): Load with full unpickling (can run code from
            the file). Default: whether ``METAGAN_TRUST_CHECKPOINT`` is set.

    Returns:
        What the file holds (usually a dict).

    Raises:
        FileNotFoundError: ``path`` is not a file.
        UnsafeCheckpointError: The file needs types a safe load refuses
            (named in the message, with the opt-in).
        UnreadableCheckpointError: The file is damaged, truncated or not a
            checkpoint.
    """
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'checkpoint file {path} does not exist. Pass a .pth file '
            'written by tools/train.py (work_dirs/<config>/iter_N.pth).')
    if is_trusted(trust):
        return torch.load(path, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(allowed_globals()):
            return torch.load(
                path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        reason = _unpickler_reason(err)
        unsafe = disallowed_globals(path) or ([reason.split(': ', 1)[1]] if
                                              'not allowed' in reason else [])
        if unsafe:
            raise UnsafeCheckpointError(
                f'checkpoint {path} was not loaded: it needs '
                f'{", ".join(unsafe)}, which a safe load does not allow '
                '(a checkpoint of metagan-mm or mmengine holds only tensors, '
                f'numbers, strings, numpy arrays and HistoryBuffer). '
                f'{TRUST_HINT}') from None
        raise _unreadable(path, reason) from None
    except Exception as err:  # anything else the bytes made torch raise
        raise _unreadable(path, f'{type(err).__name__}: {err}') from None


def _unpickler_reason(err: BaseException) -> str:
    """The reason torch's safe unpickler gave, without its general advice."""
    text = str(err)
    marker = 'WeightsUnpickler error:'
    if marker in text:
        text = text.split(marker, 1)[1].strip().split('\n\n')[0]
    return f'{type(err).__name__}: {text}'


def _unreadable(path: str, reason: str) -> UnreadableCheckpointError:
    first = (reason.strip().splitlines() or [''])[0][:300]
    return UnreadableCheckpointError(
        f'checkpoint {path} cannot be read ({first}). '
        'The file is damaged or truncated (e.g. the run was killed while '
        'saving it, or the disk was full), or it is not a PyTorch '
        'checkpoint. Use an earlier checkpoint of the run.')
