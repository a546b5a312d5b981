"""Meta-learning algorithms: the contract (:mod:`.base`) and one module
per algorithm. Every module of this package is imported here, so a new
algorithm is one file with a :func:`register_algorithm` class."""
import importlib
import pkgutil

from .base import (ALGORITHMS, MetaAlgorithm, MetaResult, MetaTrainingError,
                   Targets, TaskLosses, TaskMeans, TaskOutput, build_algorithm,
                   register_algorithm)

for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f'{__name__}.{_info.name}')

from .maml import MAML  # noqa: E402
from .meta_sgd import InnerRates, MetaSGD  # noqa: E402
from .pooled import Pooled  # noqa: E402
from .reptile import Reptile  # noqa: E402

__all__ = [
    'ALGORITHMS', 'MetaAlgorithm', 'MetaResult', 'MetaTrainingError',
    'Targets', 'TaskLosses', 'TaskMeans', 'TaskOutput', 'build_algorithm',
    'register_algorithm', 'Reptile', 'MAML', 'MetaSGD', 'InnerRates', 'Pooled'
]
