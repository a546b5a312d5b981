"""Pick the checkpoint that ``--resume`` continues from, past damaged ones."""
import glob
import os.path as osp
import re
from typing import Callable, List, Optional

from .safe_load import UnreadableCheckpointError, load_checkpoint_file

_NUMBERED = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


class NoReadableCheckpointError(RuntimeError):
    """Every checkpoint of a work dir is damaged."""


def resume_candidates(work_dir: str) -> List[str]:
    """Checkpoints of ``work_dir``, newest first.

    The file named in ``last_checkpoint`` (mmengine's pointer) comes
    first, then every ``iter_N.pth`` / ``epoch_N.pth`` by ``N``, highest
    first.  The pointer holds an absolute path; a file of that name in
    ``work_dir`` itself is preferred to it, so a copied or moved work dir
    resumes from its own checkpoints, never from the original's.
    """
    found = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _NUMBERED.match(osp.basename(path))
        if match:
            found.append((int(match.group(1)), osp.abspath(path)))
    ordered = [path for _, path in sorted(found, reverse=True)]
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            last = f.read().strip()
        here = osp.join(work_dir, osp.basename(last))
        last = here if last and osp.isfile(here) else last
        if last and osp.isfile(last):
            last = osp.abspath(last)
            ordered = [last] + [p for p in ordered if p != last]
    return ordered


def find_resumable_checkpoint(work_dir: str,
                              trust: Optional[bool] = None,
                              warn: Callable[[str],
                                             None] = print) -> Optional[str]:
    """The newest checkpoint of ``work_dir`` that loads.

    Each unreadable (truncated, damaged) checkpoint is named in a warning
    and the next older one is tried; a checkpoint that loads but is unsafe
    stops the search (:class:`UnsafeCheckpointError` propagates).

    Args:
        work_dir (str): The run's work dir.
        trust (bool, optional): See :func:`load_checkpoint_file`.
        warn (callable): Where warnings go.

    Returns:
        str | None: Its path; None if the work dir has no checkpoint.

    Raises:
        NoReadableCheckpointError: There are checkpoints, none readable
            (each named with its reason).
    """
    tried = []
    for path in resume_candidates(work_dir):
        try:
            load_checkpoint_file(path, trust=trust)
        except UnreadableCheckpointError as err:
            tried.append(f'{path}: {err}')
            warn(f'WARNING: cannot resume from {path}: it is damaged or '
                 'truncated; trying the previous checkpoint.')
            continue
        if tried:
            warn(f'Resuming from {path}, the newest readable checkpoint.')
        return path
    if tried:
        raise NoReadableCheckpointError(
            f'--resume found no readable checkpoint in {work_dir}; tried, '
            'newest first:\n  ' + '\n  '.join(tried) + '\nStart again '
            'without --resume (or with --work-dir elsewhere), or pass an '
            'intact checkpoint as --resume PATH.')
    return None
