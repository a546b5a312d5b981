"""One task of a meta-batch (torch only)."""
from dataclasses import dataclass
from typing import Optional, Tuple

from torch import Tensor
from torch.utils._pytree import register_dataclass


@dataclass(frozen=True)
class Task:
    """The images of one task (and its class, for objectives with a class
    head).

    A pytree: the runner stacks tasks along a leading dim and indexes or
    vmaps them; an algorithm only ever sees one task.

    Attributes:
        images: ``[N, C, H, W]`` images, normalised to [-1, 1].
        label: ``[]`` long class index of the task (its seen class), or
            None when the data has none.
    """

    images: Tensor
    label: Optional[Tensor] = None

    @property
    def num_images(self) -> int:
        """``N``."""
        return self.images.shape[0]

    def split(self, k: int) -> Tuple['Task', 'Task']:
        """The first ``k`` images (support) and the rest (query)."""
        return (Task(self.images[:k],
                     self.label), Task(self.images[k:], self.label))


register_dataclass(Task)
