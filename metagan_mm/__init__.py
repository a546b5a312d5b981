"""metagan-mm: meta-learned GANs for few-shot image generation on OpenMMLab.

``import metagan_mm`` (or ``custom_imports=dict(imports=['metagan_mm'])`` in a
config) first applies the stack's compatibility fixes
(:mod:`metagan_mm.compat`), then registers every model, dataset, sampler,
loop, hook, metric and model wrapper into mmagic's registries.

On a machine without mmagic (for example a bare GPU machine with PyTorch
only), the torch-only inner-loop engine :mod:`metagan_mm.core` still imports
and nothing is registered.
"""
import importlib.util

from .version import __version__  # noqa: F401


def _has_openmmlab() -> bool:
    return all(
        importlib.util.find_spec(name) is not None
        for name in ('mmengine', 'mmcv', 'mmagic'))


if _has_openmmlab():
    from . import compat

    compat.apply_all()
    from . import datasets, engine, evaluation, models  # noqa: E402,F401
