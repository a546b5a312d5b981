"""Registries of metagan-mm.

metagan-mm registers its classes directly **into mmagic's registries** (which
are children of mmengine's root registries).  A config therefore uses::

    default_scope = 'mmagic'
    custom_imports = dict(imports=['metagan_mm'], allow_failed_imports=False)

and refers to our classes by their plain names (``type='ReptileGAN'``) next to
mmagic's own (``type='DCGANGenerator'``).  Loops, hooks, samplers and model
wrappers resolve when mmengine's runner builds them from its root registries
because the runner switches to the ``mmagic`` scope, whose registries hold
our names too.  Exceptions: model wrappers and collate functions are
registered in mmengine's root ``MODEL_WRAPPERS`` and ``FUNCTIONS``, because
mmengine's runner looks them up there with ``Registry.get``, which does not
switch scope.  Our class names never collide with mmagic's.
"""
from mmagic.registry import (DATA_SAMPLERS, DATASETS, EVALUATORS, HOOKS,
                             LOG_PROCESSORS, LOOPS, METRICS, MODELS,
                             OPTIM_WRAPPERS, OPTIMIZERS, PARAM_SCHEDULERS,
                             RUNNERS, TRANSFORMS, VISBACKENDS, VISUALIZERS)
# mmengine's runner looks collate functions (``FUNCTIONS.get``) and model
# wrappers (``MODEL_WRAPPERS.get`` in ``Runner.wrap_model``) up in its ROOT
# registries without switching scope, so those two live there.
from mmengine.registry import FUNCTIONS, MODEL_WRAPPERS

__all__ = [
    'DATA_SAMPLERS', 'DATASETS', 'EVALUATORS', 'FUNCTIONS', 'HOOKS',
    'LOG_PROCESSORS', 'LOOPS', 'METRICS', 'MODEL_WRAPPERS', 'MODELS',
    'OPTIM_WRAPPERS', 'OPTIMIZERS', 'PARAM_SCHEDULERS', 'RUNNERS',
    'TRANSFORMS', 'VISBACKENDS', 'VISUALIZERS'
]
