"""Load checkpoint files without running code from them.

Checkpoints are untrusted input: they are shared between people, and a
pickle can name any Python callable.  :func:`load_checkpoint_file` keeps
torch's ``weights_only=True`` unpickler and allows, for that one load, only
the few types that mmengine and metagan-mm checkpoints contain besides
tensors and plain containers (:func:`allowed_globals`).  A file that needs
anything else is refused with :class:`UnsafeCheckpointError`, which names
the types and the explicit opt-in for a file the user trusts.

Trust names one file: :func:`trust_file` (what ``--trust-checkpoint`` and
``--trust-feature-net FILE`` of the tools call) trusts that file alone, and
``trust=True`` trusts one call.  ``METAGAN_TRUST_CHECKPOINT=1`` trusts every
file of the process; it accepts only explicit true values.
"""
import inspect
import os
import os.path as osp
import pickle
import re
from typing import Any, List, Optional, Set

import torch

#: Environment variable that trusts every checkpoint of the process.
TRUST_ENV = 'METAGAN_TRUST_CHECKPOINT'
#: The values of ``TRUST_ENV`` that trust, and those that do not.
TRUE_VALUES = ('1', 'true', 'yes', 'on')
FALSE_VALUES = ('', '0', 'false', 'no', 'off')
TRUST_HINT = ('If you trust whoever made this file, load it with full '
              'unpickling, which can run code: pass --trust-checkpoint (the '
              'model checkpoint) or --trust-feature-net FILE (a feature '
              'network) to the tool, or trust=True in Python '
              f'({TRUST_ENV}=1 trusts every file of the process).')

_TRUSTED: Set[str] = set()


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


def _trust_key(name: str) -> str:
    name = str(name)
    return name if '://' in name else osp.realpath(osp.expanduser(name))


def trust_file(name: str) -> None:
    """Trust one file (a path or a URL) for the rest of the process.

    Loads of that file (by any route: the tools, mmengine's loader, a
    feature network) then use full unpickling; every other file is still
    loaded safely.
    """
    _TRUSTED.add(_trust_key(name))


def untrust_all() -> None:
    """Forget every :func:`trust_file` (the end of a tool's run)."""
    _TRUSTED.clear()


def env_trusts() -> bool:
    """Whether ``METAGAN_TRUST_CHECKPOINT`` is set to an explicit true value.

    Raises:
        ValueError: It is set to a value that is neither true nor false.
    """
    value = os.environ.get(TRUST_ENV, '').strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ValueError(
        f'{TRUST_ENV}={os.environ[TRUST_ENV]!r} is not understood: set it to '
        f'1 (or {"/".join(TRUE_VALUES[1:])}) to trust every checkpoint of '
        'the process, or unset it (0/false/no/off) to load them safely.')


def is_trusted(trust: Optional[bool] = None,
               name: Optional[str] = None) -> bool:
    """Whether to load ``name`` with full unpickling.

    ``trust`` if given; else whether ``name`` was passed to
    :func:`trust_file`, or ``METAGAN_TRUST_CHECKPOINT`` is true.
    """
    if trust is not None:
        return bool(trust)
    if name is not None and _trust_key(name) in _TRUSTED:
        return True
    return env_trusts()


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
            the file). Default: whether the file was trusted with
            :func:`trust_file` or ``METAGAN_TRUST_CHECKPOINT`` is true.

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
    if is_trusted(trust, path):
        return torch.load(path, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(allowed_globals()):
            return torch.load(
                path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        reason = _unpickler_reason(err)
        unsafe = disallowed_globals(path) or _refused_names(reason)
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
    """The reason torch's safe unpickler gave, without its general advice
    (that loading with ``weights_only=False`` "will likely succeed")."""
    text = str(err)
    marker = 'WeightsUnpickler error:'
    if marker in text:
        text = text.split(marker, 1)[1]
    paragraphs = [
        p.strip() for p in text.split('\n\n') if p.strip() and not any(
            advice in p for advice in ('weights_only', 'Weights only load',
                                       'Check the documentation'))
    ]
    return f'{type(err).__name__}: {(paragraphs or [text.strip()])[0]}'


def _refused_names(reason: str) -> List[str]:
    """The globals torch's unpickler named as refused (the only way to learn
    them for an old-format, non-zip checkpoint)."""
    names = re.findall(r'GLOBAL ([\w.]+)', reason)
    if not names and 'not allowed' in reason:
        names = [reason.split(': ', 1)[1]]
    return names


def _unreadable(path: str, reason: str) -> UnreadableCheckpointError:
    first = (reason.strip().splitlines() or [''])[0][:300]
    return UnreadableCheckpointError(
        f'checkpoint {path} cannot be read ({first}). '
        'The file is damaged or truncated (e.g. the run was killed while '
        'saving it, or the disk was full), or it is not a PyTorch '
        'checkpoint. Use an earlier checkpoint of the run.')


def load_url_checkpoint(url: str,
                        model_dir: Optional[str] = None,
                        map_location: Any = None,
                        progress: bool = True,
                        check_hash: bool = False,
                        file_name: Optional[str] = None,
                        weights_only: Optional[bool] = None) -> Any:
    """:func:`torch.hub.load_state_dict_from_url`, loaded safely.

    Downloads ``url`` into the hub cache as torch does (unless it is there
    already) and loads the cached file with :func:`load_checkpoint_file`:
    full unpickling only for a URL passed to :func:`trust_file` (or
    ``METAGAN_TRUST_CHECKPOINT``), whatever ``weights_only`` says.

    Args:
        url (str): The checkpoint's URL.
        model_dir (str, optional): Cache folder (default:
            ``<torch.hub.get_dir()>/checkpoints``).
        map_location: As for :func:`torch.load`.
        progress (bool): Show a download progress bar.
        check_hash (bool): Check the SHA-256 prefix in the file name.
        file_name (str, optional): Cached file name (default: the URL's).
        weights_only (bool, optional): Ignored; the load is safe unless the
            URL is trusted.

    Returns:
        What the file holds.
    """
    from urllib.parse import urlparse
    if model_dir is None:
        model_dir = osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = osp.join(model_dir, file_name or osp.basename(urlparse(url).path))
    if not osp.exists(cached):
        match = torch.hub.HASH_REGEX.search(osp.basename(cached))
        prefix = match.group(1) if check_hash and match else None
        torch.hub.download_url_to_file(url, cached, prefix, progress=progress)
    return load_checkpoint_file(
        cached, map_location, trust=is_trusted(None, url) or None)
