"""One training run per work dir, and clear errors for unusable ones."""
import errno
import fcntl
import os
import os.path as osp
import socket
import sys
import time
from contextlib import contextmanager
from typing import Iterator

#: The lock file inside a work dir.
LOCK_NAME = '.train.lock'


class WorkDirError(RuntimeError):
    """A work dir cannot be used: read-only, full, or in use by a run."""


def _rank() -> int:
    """This process's rank, as the launchers set it (0 without one)."""
    for name in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if os.environ.get(name, '').isdigit():
            return int(os.environ[name])
    return 0


def unusable(work_dir: str, err: OSError) -> WorkDirError:
    """The error for an ``OSError`` met while writing into ``work_dir``."""
    if err.errno == errno.ENOSPC:
        fix = ('the disk is full: free space there (the checkpoints written '
               'so far are intact) and run again, with --resume to continue')
    elif err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = ('it is read-only or not yours: pass --work-dir with a '
               'writable folder')
    else:
        fix = 'pass --work-dir with another folder'
    return WorkDirError(f'cannot write into the work dir {work_dir} '
                        f'({err.strerror or err}): {fix}.')


@contextmanager
def work_dir_lock(work_dir: str, ignore: bool = False) -> Iterator[None]:
    """Hold the work dir for one training run until the block ends.

    Rank 0 takes an exclusive ``flock`` on ``<work_dir>/.train.lock`` and
    writes who holds it there.  The kernel releases it when the process
    ends however it ends, so the lock of a killed run never blocks a
    resume; the file may stay behind, unlocked.  Other ranks of the run do
    not lock.

    Args:
        work_dir (str): The run's work dir (created if missing).
        ignore (bool): Train even if another run holds the lock
            (``--ignore-lock``).

    Raises:
        WorkDirError: Another run holds it, or it is not writable.
    """
    if ignore or _rank() != 0:
        yield
        return
    path = osp.join(work_dir, LOCK_NAME)
    try:
        os.makedirs(work_dir, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise unusable(work_dir, err) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode(errors='replace').strip()
            raise WorkDirError(
                f'the work dir {work_dir} is in use by another training run '
                f'({holder or "holder unknown"}). Two runs in one work dir '
                "overwrite each other's checkpoints and logs. Wait for it to "
                'end, or pass another --work-dir; --ignore-lock trains there '
                'anyway (only if that run is certainly gone).') from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd,
                      (f'pid {os.getpid()} on {socket.gethostname()} since '
                       f'{time.strftime("%Y-%m-%d %H:%M:%S")}: '
                       f'{" ".join(sys.argv)}\n').encode(), 0)
        except OSError as err:
            raise unusable(work_dir, err) from None
        yield
    finally:
        os.close(fd)  # releases the flock
