"""Install metagan-mm: ``pip install -e .`` (see tools/setup_env.sh)."""
from setuptools import find_packages, setup

setup(
    name='metagan-mm',
    version='0.1.0',
    description='Meta-learning GANs for few-shot image generation on '
    'the OpenMMLab stack (mmengine, mmcv, mmagic)',
    packages=find_packages(include=['metagan_mm', 'metagan_mm.*']),
    package_data={'metagan_mm': ['py.typed']},
    python_requires='>=3.9',
    install_requires=[],  # pinned stack lives in requirements/ (see README)
)
