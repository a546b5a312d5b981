"""A local file backend whose writes are all-or-nothing."""
import os
import os.path as osp
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

#: ``backend_args`` that save checkpoints through this backend.
ATOMIC_BACKEND_ARGS = dict(backend='atomic_local')


class CheckpointSaveError(RuntimeError):
    """Writing a checkpoint failed; nothing under its final name changed."""


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` that writes to a temporary name first.

    ``put`` writes the bytes to ``<file>.tmp-<pid>``, flushes them to disk
    and renames the file onto its final name, so a kill or a full disk at
    any moment leaves either the complete new file or nothing under that
    name (and every earlier checkpoint untouched).  mmengine's
    ``CheckpointHook`` points ``last_checkpoint`` at a checkpoint only
    after ``put`` returns.  Select it with
    ``backend_args=dict(backend='atomic_local')``; ``tools/train.py`` does
    so for the checkpoint hook of every config.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write ``obj`` to ``filepath`` atomically.

        Raises:
            CheckpointSaveError: The write failed (disk full, no
                permission...); the temporary file is removed.
        """
        filepath = str(filepath)
        os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
        tmp = f'{filepath}.tmp-{os.getpid()}'
        try:
            with open(tmp, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except OSError as err:
            if osp.exists(tmp):
                os.remove(tmp)
            raise CheckpointSaveError(
                f'could not write {filepath} ({err.strerror or err}). '
                'Nothing under that name was changed and the earlier '
                f'checkpoints in {osp.dirname(filepath) or "."} are intact: '
                'free disk space (or fix the permissions) and continue '
                'with --resume.') from err


register_backend('atomic_local', AtomicLocalBackend)
