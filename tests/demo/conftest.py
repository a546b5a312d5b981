"""The demo script, imported as a module."""
import importlib.util
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='session')
def fewshot_gradio():
    """``demo/fewshot_gradio.py`` as a module."""
    spec = importlib.util.spec_from_file_location(
        'fewshot_gradio', osp.join(REPO_ROOT, 'demo', 'fewshot_gradio.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
