"""Meta-learning algorithms on the :class:`~metagan_mm.core.InnerLoop`."""
from .base import (MetaAlgorithm, MetaResult, MetaTrainingError, TaskOutput,
                   check_tasks)
from .maml import MAML
from .meta_sgd import InnerRates, MetaSGD
from .pooled import Pooled
from .reptile import Reptile

__all__ = [
    'MetaAlgorithm', 'MetaResult', 'MetaTrainingError', 'TaskOutput',
    'check_tasks', 'Reptile', 'MAML', 'MetaSGD', 'InnerRates', 'Pooled'
]
