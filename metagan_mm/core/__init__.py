"""Torch-only inner-loop engine for meta-learning GANs.

Nothing under ``metagan_mm.core`` imports mmengine/mmcv/mmagic.
"""
from .algorithms import MAML, MetaSGD, Pooled, Reptile
from .checks import check_pair
from .config import InnerLoopConfig
from .gan_losses import LOSS_NAMES, d_loss, g_loss, gradient_penalty
from .inner_loop import AdaptResult, InnerLoop
from .params import functional_call, meta_buffers, meta_params

__all__ = ['InnerLoop', 'InnerLoopConfig', 'AdaptResult', 'Reptile', 'MAML',
           'MetaSGD', 'Pooled', 'check_pair', 'LOSS_NAMES', 'd_loss', 'g_loss',
           'gradient_penalty', 'functional_call', 'meta_params',
           'meta_buffers']
