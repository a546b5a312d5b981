"""Shared test fixtures and paths."""
import gc
import importlib
import os
import os.path as osp
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
OMNIGLOT_ROOT = os.environ.get(
    'METAGAN_OMNIGLOT', osp.join(REPO_ROOT, '..', 'shared', 'data',
                                 'omniglot'))


@pytest.fixture
def omniglot_root() -> str:
    """Path of the real Omniglot subset; skips where it is absent."""
    if not osp.isdir(osp.join(OMNIGLOT_ROOT, 'images_background')):
        pytest.skip(f'Omniglot not found at {OMNIGLOT_ROOT} '
                    '(set METAGAN_OMNIGLOT to its folder)')
    return OMNIGLOT_ROOT


@pytest.fixture
def tool():
    """``tool('train')``: a script of ``tools/`` (or of ``folder``)
    imported as a module, to call its ``main(argv)`` as a user runs it,
    without a new process."""

    def load(name: str, folder: str = osp.join(REPO_ROOT, 'tools')):
        sys.path.insert(0, folder)
        try:
            return importlib.import_module(name)
        finally:
            sys.path.pop(0)

    return load


@pytest.fixture(scope='session')
def uninterrupted(tmp_path_factory):
    """``uninterrupted(max_iters, *options, config=None)``: the work dir of
    an unbroken ``tools/train.py`` run (``training_helpers.train`` with
    these settings), trained once per session and shared by the tests that
    compare an interrupted and resumed run with it. Read it; never write
    into it."""
    runs = {}

    def run(max_iters: int, *options: str, config=None):
        from training_helpers import CONFIG, train
        key = (config or CONFIG, max_iters, options)
        if key not in runs:
            work = tmp_path_factory.mktemp('uninterrupted')
            train(work, *options, max_iters=max_iters, config=key[0])
            runs[key] = work
        return runs[key]

    return run


def pytest_collection_modifyitems(config, items):
    """Skip the tests marked ``gpu`` where there is no CUDA device."""
    gpu = [item for item in items if item.get_closest_marker('gpu')]
    if not gpu:
        return
    import torch
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason='needs a CUDA device (marked gpu)')
    for item in gpu:
        item.add_marker(skip)


def pytest_collection_finish(session):
    """Move what the imports made (torch, mmengine, mmagic, the test
    modules) out of the garbage collector's reach: mmengine's data sets run
    ``gc.collect()`` on every build, and a full collection over that heap
    takes about a second."""
    gc.freeze()
