"""Install metagan-mm, as OpenMMLab projects do.

``pip install -e .`` in an existing mmagic environment adds what is
missing from ``requirements/runtime.txt`` (mmengine, mmagic and the pins
mmagic 1.2.0 needs to import); ``pip install -e .[tests]`` adds the test
tools, ``.[docs]`` the documentation tools.  It does not install torch or
mmcv with its compiled ops: install those first (``tools/setup_env.sh`` does
all of it, see README).
"""
import os.path as osp
import re
from setuptools import find_packages, setup
from typing import List

ROOT = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    """``__version__`` of ``metagan_mm/version.py``, read as text."""
    with open(osp.join(ROOT, 'metagan_mm', 'version.py')) as f:
        match = re.search(r"^__version__ = '([^']+)'", f.read(), re.M)
    if match is None:
        raise RuntimeError('metagan_mm/version.py has no __version__')
    return match.group(1)


def parse_requirements(name: str) -> List[str]:
    """The requirement lines of ``requirements/<name>``, without comments,
    options and the build tools listed there for the set-up."""
    out = []
    with open(osp.join(ROOT, 'requirements', name)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-') and \
                    not line.startswith('setuptools'):
                out.append(line)
    return out


if __name__ == '__main__':
    setup(
        name='metagan-mm',
        version=get_version(),
        description='Meta-learning GANs for few-shot image generation on '
        'the OpenMMLab stack (mmengine, mmcv, mmagic)',
        long_description=open(osp.join(ROOT, 'README.md')).read(),
        long_description_content_type='text/markdown',
        keywords='few-shot image generation, meta-learning, GAN, OpenMMLab',
        packages=find_packages(include=['metagan_mm', 'metagan_mm.*']),
        package_data={'metagan_mm': ['py.typed']},
        python_requires='>=3.9',
        install_requires=parse_requirements('runtime.txt') +
        ['mmengine>=0.10.0,<0.11', 'mmagic>=1.2.0,<1.3'],
        extras_require={
            'tests': parse_requirements('tests.txt'),
            'docs': parse_requirements('docs.txt'),
            'demo': parse_requirements('demo.txt'),
        },
        license='Apache License 2.0',
    )
