"""Torch-only inner-loop engine for meta-learning GANs.

Nothing under ``metagan_mm.core`` imports mmengine/mmcv/mmagic.
"""
from .algorithms import (ALGORITHMS, MAML, InnerRates, MetaAlgorithm,
                         MetaResult, MetaSGD, MetaTrainingError, Pooled,
                         Reptile, Targets, TaskLosses, TaskMeans, TaskOutput,
                         build_algorithm, register_algorithm)
from .batching import Batching, TaskRunner
from .checks import check_pair
from .config import InnerLoopConfig
from .driver import MetaDriver, draw_randomness, meta_gradients
from .gan_losses import LOSS_NAMES, d_loss, g_loss, gradient_penalty
from .inner_loop import Adapted, InnerLoop, TaskState
from .objective import GANLosses, GANObjective, Nets
from .params import functional_call, meta_buffers, meta_params
from .task import Task

__all__ = [
    'InnerLoop', 'InnerLoopConfig', 'Batching', 'TaskRunner', 'Adapted',
    'TaskState', 'Task', 'GANObjective', 'GANLosses', 'Nets', 'MetaAlgorithm',
    'MetaResult', 'TaskOutput', 'TaskLosses', 'TaskMeans', 'Targets',
    'ALGORITHMS', 'register_algorithm', 'build_algorithm', 'MetaDriver',
    'meta_gradients', 'draw_randomness', 'MetaTrainingError', 'Reptile',
    'MAML', 'MetaSGD', 'InnerRates', 'Pooled', 'check_pair', 'LOSS_NAMES',
    'd_loss', 'g_loss', 'gradient_penalty', 'functional_call', 'meta_params',
    'meta_buffers'
]
