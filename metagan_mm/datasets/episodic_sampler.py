"""Infinite, rank-partitioned, resumable sampler of task indices."""
from typing import Iterator, Optional, Sized

from mmengine.dist import get_dist_info
from torch.utils.data import Sampler

from metagan_mm.registry import DATA_SAMPLERS
from .errors import DataConfigError


@DATA_SAMPLERS.register_module()
class EpisodicSampler(Sampler):
    """Infinite stream of global task indices, partitioned over ranks.

    Rank ``r`` of ``W`` yields ``start_index + n * W + r`` for
    ``n = 0, 1, 2, ...``. With a per-rank batch ``b``, iteration ``k``
    therefore covers the global indices ``start_index + [k*b*W,
    (k+1)*b*W)`` across all ranks -- the same tasks one process with batch
    ``b*W`` sees. The stream does not depend on any seed (tasks are fixed
    by the dataset's ``seed`` and the index), so ``seed`` is accepted (the
    runner passes one) and ignored, and ``set_epoch`` is a no-op.

    Resuming: ``MetaTrainLoop`` (``metagan_mm.engine``) calls
    :meth:`set_start` with the first task no iteration has consumed yet
    (kept in the MessageHub and saved in checkpoints), so a resumed run
    continues with the task sequence an uninterrupted run would have seen,
    without loading the skipped tasks.

    Args:
        dataset (Sized, optional): The (episodic) data set; only used for
            the nominal ``len()``.
        seed (int, optional): Ignored (see above).
        start_index (int): First global index. Defaults to 0.
        rank (int, optional): Defaults to the process's distributed rank.
        world_size (int, optional): Defaults to the distributed world size.
    """

    def __init__(self,
                 dataset: Optional[Sized] = None,
                 seed: Optional[int] = None,
                 start_index: int = 0,
                 rank: Optional[int] = None,
                 world_size: Optional[int] = None) -> None:
        dist_rank, dist_world = get_dist_info()
        self.rank = dist_rank if rank is None else int(rank)
        self.world_size = dist_world if world_size is None else int(world_size)
        if not 0 <= self.rank < self.world_size:
            raise DataConfigError(
                f'EpisodicSampler: rank {self.rank} is not in '
                f'[0, world_size={self.world_size})')
        self.dataset = dataset
        self.seed = seed
        self.set_start(start_index)

    def set_start(self, index: int) -> None:
        """Start the stream at global task index ``index``."""
        if int(index) < 0:
            raise DataConfigError(
                f'EpisodicSampler: start index must be >= 0, got {index}')
        self.start_index = int(index)

    def __iter__(self) -> Iterator[int]:
        index = self.start_index + self.rank
        while True:
            yield index
            index += self.world_size

    def __len__(self) -> int:
        """Nominal per-rank length (the stream itself is infinite)."""
        total = len(self.dataset) if self.dataset is not None else 10**7
        return max(0, -(-(total - self.start_index) // self.world_size))

    def set_epoch(self, epoch: int) -> None:
        """No-op: the stream does not depend on the epoch."""
