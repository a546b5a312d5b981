"""Turn errors of the command-line tools into one clear message."""
import argparse
import os
import sys
import traceback
from contextlib import contextmanager
from typing import Iterator, List, Optional

from mmengine.config import DictAction

from metagan_mm.checkpoint import TRUST_ENV

HINTS = {
    'is not in the': ('If the type is a metagan-mm class, add '
                      "custom_imports=dict(imports=['metagan_mm'], "
                      "allow_failed_imports=False) and default_scope='mmagic' "
                      'to the config; otherwise check the spelling.'),
    'unexpected keyword argument': ('A config key is not an argument of the '
                                    'class it builds: check its spelling '
                                    'against the class docstring.'),
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

    Set ``METAGAN_TRACEBACK=1`` to see the full traceback instead.

    Args:
        tool (str): Name of the tool, for the message.
    """
    try:
        yield
    except (KeyError, TypeError, ValueError, FileNotFoundError, ImportError,
            RuntimeError) as err:
        if os.environ.get('METAGAN_TRACEBACK') == '1':
            raise
        message = _root_message(err)
        hints = [hint for key, hint in HINTS.items() if key in message]
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


def add_trust_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--trust-checkpoint`` (see :func:`parse_runner_args`)."""
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='load checkpoints with full unpickling, which can run code '
        'from the file: only for a file you trust (default: a safe load '
        f'that refuses such files; same as {TRUST_ENV}=1)')


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add OpenMMLab's usual runner arguments shared by train and test.

    ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local_rank``
    and ``--trust-checkpoint``.
    """
    add_trust_arg(parser)
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
    """Parse ``argv``; export ``LOCAL_RANK`` for the launchers and
    ``METAGAN_TRUST_CHECKPOINT`` for ``--trust-checkpoint`` (it reaches
    mmengine's checkpoint loader through
    :func:`metagan_mm.checkpoint.load_checkpoint_file`)."""
    args = parser.parse_args(argv)
    if getattr(args, 'trust_checkpoint', False):
        os.environ[TRUST_ENV] = '1'
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args
