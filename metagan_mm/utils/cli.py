"""Turn errors of the command-line tools into one clear message."""
import argparse
import errno
import os
import sys
import traceback
from contextlib import contextmanager
from typing import Iterator, List, Optional

from mmengine.config import DictAction

from metagan_mm.checkpoint.safe_load import trust_file, untrust_all

HINTS = {
    'is not in the': ('If the type is a metagan-mm class, add '
                      "custom_imports=dict(imports=['metagan_mm'], "
                      "allow_failed_imports=False) and default_scope='mmagic' "
                      'to the config; otherwise check the spelling.'),
    'unexpected keyword argument': ('A config key is not an argument of the '
                                    'class it builds: check its spelling '
                                    'against the class docstring.'),
}

#: Hints for the errors of a full or read-only disk.
OS_HINTS = {
    errno.ENOSPC: ('The disk is full: free space and run again; files '
                   'written before (checkpoints, images) are intact, and '
                   'tools/train.py continues with --resume.'),
    errno.EROFS: ('That folder is on a read-only disk: pass --work-dir (or '
                  '--out) with a writable folder.'),
    errno.EACCES: ('You may not write there: pass --work-dir (or --out) '
                   'with a folder of yours.'),
}


def _root_message(err: BaseException) -> str:
    """Join an exception and its causes into one readable chain."""
    messages = []
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        text = str(err).strip().strip('"').strip("'")
        if text and text not in messages:
            messages.append(f'{type(err).__name__}: {text}')
        err = err.__cause__ or err.__context__
    return '\n  caused by '.join(messages)


@contextmanager
def friendly_errors(tool: str) -> Iterator[None]:
    """Print one clear message instead of a traceback and exit with 1.

    Set ``METAGAN_TRACEBACK=1`` to see the full traceback instead.  When
    the block ends, the files trusted during it are forgotten.

    Args:
        tool (str): Name of the tool, for the message.
    """
    try:
        yield
    except (KeyError, TypeError, ValueError, OSError, ImportError,
            RuntimeError) as err:
        if os.environ.get('METAGAN_TRACEBACK') == '1':
            raise
        message = _root_message(err)
        hints = [hint for key, hint in HINTS.items() if key in message]
        if isinstance(err, OSError) and err.errno in OS_HINTS:
            hints.append(OS_HINTS[err.errno])
        print(f'{tool}: error: {message}', file=sys.stderr)
        for hint in hints:
            print(f'{tool}: hint: {hint}', file=sys.stderr)
        print(
            f'{tool}: (set METAGAN_TRACEBACK=1 for the full traceback)',
            file=sys.stderr)
        last = traceback.extract_tb(err.__traceback__)[-1:]
        if last:
            print(
                f'{tool}: raised at {last[0].filename}:{last[0].lineno}',
                file=sys.stderr)
        sys.exit(1)
    finally:
        untrust_all()


def add_trust_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--trust-checkpoint``: trust the tool's model checkpoint."""
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='load the model checkpoint this command loads (with --resume '
        'alone: the one it resumes from) with full unpickling, which can run '
        'code from the file: only for a file you trust. It trusts that file '
        'alone (default: a safe load that refuses such files)')


def positive_int(text: str) -> int:
    """``argparse`` type: an integer >= 1."""
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """``argparse`` type: an integer >= 0."""
    return _int_at_least(text, 0)


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a whole number') from None
    if value < low:
        raise argparse.ArgumentTypeError(f'must be at least {low}, got {text}')
    return value


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add OpenMMLab's usual runner arguments shared by train and test.

    ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local_rank``,
    ``--trust-checkpoint`` and ``--trust-feature-net``.
    """
    add_trust_arg(parser)
    parser.add_argument(
        '--trust-feature-net',
        action='append',
        default=[],
        metavar='FILE',
        help="load this feature-network file of the config's metrics with "
        'full unpickling (or, for an Inception TorchScript file, run it), '
        'which can run code from it: only for a file you trust. Names one '
        'file; repeat it for another')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_iters=10')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser: argparse.ArgumentParser,
                      argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse ``argv``; export ``LOCAL_RANK`` for the launchers and trust
    each ``--trust-feature-net`` file alone
    (:func:`~metagan_mm.checkpoint.safe_load.trust_file`; the model
    checkpoint is trusted by
    :func:`~metagan_mm.utils.runner_setup.build_runner` once it is known).
    """
    args = parser.parse_args(argv)
    for path in args.trust_feature_net:
        trust_file(path)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args
