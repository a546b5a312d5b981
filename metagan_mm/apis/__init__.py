"""High-level APIs."""
from .batch_generation import class_shot_paths, generate_for_classes
from .fewshot_generation import (ShotImageError, generate_from_shots,
                                 load_meta_model, model_image_shape,
                                 read_shots)

__all__ = [
    'ShotImageError', 'class_shot_paths', 'generate_for_classes',
    'generate_from_shots', 'load_meta_model', 'model_image_shape', 'read_shots'
]
