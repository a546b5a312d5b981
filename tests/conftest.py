"""Shared test fixtures and paths."""
import os
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
OMNIGLOT_ROOT = os.environ.get(
    'METAGAN_OMNIGLOT',
    osp.join(REPO_ROOT, '..', 'shared', 'data', 'omniglot'))


@pytest.fixture
def omniglot_root() -> str:
    """Path of the real Omniglot subset; skips where it is absent."""
    if not osp.isdir(osp.join(OMNIGLOT_ROOT, 'images_background')):
        pytest.skip(f'Omniglot not found at {OMNIGLOT_ROOT} '
                    '(set METAGAN_OMNIGLOT to its folder)')
    return OMNIGLOT_ROOT
