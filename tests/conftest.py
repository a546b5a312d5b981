"""Shared test fixtures and paths."""
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
