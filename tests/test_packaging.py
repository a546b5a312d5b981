"""setup.py: version from metagan_mm/version.py, requirements from files."""
import importlib.util
import os.path as osp
import subprocess
import sys

import metagan_mm

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def setup_query(*flags):
    proc = subprocess.run([sys.executable, 'setup.py', *flags],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]


def test_version_is_the_package_version():
    assert setup_query('--version') == metagan_mm.__version__


def test_requirements_come_from_the_requirement_files():
    spec = importlib.util.spec_from_file_location(
        'metagan_setup', osp.join(REPO_ROOT, 'setup.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines helpers; setup() is guarded
    runtime = module.parse_requirements('runtime.txt')
    assert 'numpy==1.26.4' in runtime and 'transformers==4.39.3' in runtime
    assert not any(r.startswith(('setuptools', '#')) for r in runtime)
    assert module.parse_requirements('tests.txt')[0].startswith('pytest')
