"""A local file backend whose writes are all-or-nothing."""
import io
import os
import os.path as osp
from pathlib import Path
from typing import Any, BinaryIO, Callable, Union

from mmengine.fileio import LocalBackend, register_backend

#: ``backend_args`` that save checkpoints through this backend.
ATOMIC_BACKEND_ARGS = dict(backend='atomic_local')


class AtomicWriteError(RuntimeError):
    """Writing a file failed; nothing under its final name changed."""


class CheckpointSaveError(AtomicWriteError):
    """Writing a checkpoint failed; nothing under its final name changed."""


def write_atomically(filepath: Union[str, Path], data: bytes) -> None:
    """Write ``data`` to ``filepath`` all at once, or not at all.

    The bytes go to ``<file>.tmp-<pid>``, are flushed to disk and the file
    is renamed onto its final name, so a kill or a full disk at any moment
    leaves either the complete new file or the previous one (or nothing).

    Raises:
        AtomicWriteError: The write failed (disk full, no permission...);
            the temporary file is removed and the message names the file.
    """
    filepath = str(filepath)
    tmp = f'{filepath}.tmp-{os.getpid()}'
    try:
        os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except OSError as err:
        if osp.exists(tmp):
            os.remove(tmp)
        raise AtomicWriteError(
            f'could not write {filepath} ({err.strerror or err}). Nothing '
            'under that name was changed: free disk space (or fix the '
            'permissions, or write elsewhere) and run again.') from err


def save_atomically(save: Callable[[BinaryIO], Any],
                    filepath: Union[str, Path]) -> None:
    """``save(file)`` into memory, then :func:`write_atomically`.

    For writers that take a file object: ``torch.save(obj, f)``,
    ``image.save(f, format='PNG')``, ``f.write(json_bytes)``...
    """
    buffer = io.BytesIO()
    save(buffer)
    write_atomically(filepath, buffer.getvalue())


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose ``put`` is :func:`write_atomically`.

    A kill or a full disk at any moment leaves either the complete new
    checkpoint or nothing under its name, and every earlier checkpoint
    untouched.  mmengine's ``CheckpointHook`` points ``last_checkpoint`` at
    a checkpoint only after ``put`` returns.  Select it with
    ``backend_args=dict(backend='atomic_local')``; ``tools/train.py`` does
    so for the checkpoint hook of every config.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write ``obj`` to ``filepath`` atomically.

        Raises:
            CheckpointSaveError: The write failed (disk full, no
                permission...); the temporary file is removed.
        """
        try:
            write_atomically(filepath, obj)
        except AtomicWriteError as err:
            cause = err.__cause__
            raise CheckpointSaveError(
                f'could not write {filepath} '
                f'({getattr(cause, "strerror", None) or cause}). Nothing '
                'under that name was changed and the earlier checkpoints in '
                f'{osp.dirname(str(filepath)) or "."} are intact: free disk '
                'space (or fix the permissions) and continue with --resume.'
            ) from cause


register_backend('atomic_local', AtomicLocalBackend)
