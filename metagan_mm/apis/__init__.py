"""High-level APIs."""
from .fewshot_generation import (ShotImageError, generate_from_shots,
                                 load_meta_model, model_image_shape,
                                 read_shots)

__all__ = [
    'ShotImageError', 'generate_from_shots', 'load_meta_model',
    'model_image_shape', 'read_shots'
]
