"""Meta-learning algorithms built on :class:`~metagan_mm.core.InnerLoop`."""
from .maml import MAML
from .meta_sgd import MetaSGD
from .pooled import Pooled
from .reptile import Reptile

__all__ = ['Reptile', 'MAML', 'MetaSGD', 'Pooled']
