"""Checkpoint files: safe loading, strict weights, resume and atomic saves."""
from .atomic_local_backend import (ATOMIC_BACKEND_ARGS, AtomicLocalBackend,
                                   AtomicWriteError, CheckpointSaveError,
                                   save_atomically, write_atomically)
from .model_weights import CheckpointMismatchError, load_model_weights
from .resume import NoReadableCheckpointError, find_resumable_checkpoint
from .safe_load import (TRUST_ENV, UnreadableCheckpointError,
                        UnsafeCheckpointError, load_checkpoint_file,
                        trust_file)

__all__ = [
    'ATOMIC_BACKEND_ARGS', 'AtomicLocalBackend', 'AtomicWriteError',
    'CheckpointSaveError', 'save_atomically', 'write_atomically',
    'CheckpointMismatchError', 'load_model_weights',
    'NoReadableCheckpointError', 'find_resumable_checkpoint', 'TRUST_ENV',
    'UnreadableCheckpointError', 'UnsafeCheckpointError',
    'load_checkpoint_file', 'trust_file'
]
