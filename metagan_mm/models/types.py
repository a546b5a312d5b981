"""Type aliases of the models."""
from typing import Dict

from torch import Tensor

TensorDict = Dict[str, Tensor]
