"""Runner pieces: model wrapper and loops."""
from .fewshot_loops import FewShotTestLoop, FewShotValLoop
from .meta_data_parallel import MetaDataParallel
from .meta_train_loop import MetaIterBasedTrainLoop

__all__ = [
    'FewShotTestLoop', 'FewShotValLoop', 'MetaDataParallel',
    'MetaIterBasedTrainLoop'
]
