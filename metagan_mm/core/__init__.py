"""Torch-only inner-loop engine for meta-learning GANs.

Nothing under ``metagan_mm.core`` imports mmengine/mmcv/mmagic.
"""
from .algorithms import (MAML, InnerRates, MetaAlgorithm, MetaResult, MetaSGD,
                         MetaTrainingError, Pooled, Reptile, TaskOutput)
from .batching import Batching, TaskRunner
from .checks import check_pair
from .config import InnerLoopConfig
from .gan_losses import LOSS_NAMES, d_loss, g_loss, gradient_penalty
from .inner_loop import Adapted, InnerLoop, TaskState
from .params import functional_call, meta_buffers, meta_params

__all__ = [
    'InnerLoop', 'InnerLoopConfig', 'Batching', 'TaskRunner', 'Adapted',
    'TaskState', 'MetaAlgorithm', 'MetaResult', 'TaskOutput',
    'MetaTrainingError', 'Reptile', 'MAML', 'MetaSGD', 'InnerRates', 'Pooled',
    'check_pair', 'LOSS_NAMES', 'd_loss', 'g_loss', 'gradient_penalty',
    'functional_call', 'meta_params', 'meta_buffers'
]
