"""Few-shot generation for many classes with one model load."""
import os
import os.path as osp
import random
from typing import Callable, Dict, List, Optional

import torch
from mmengine.utils import ProgressBar

from .fewshot_generation import (ShotImageError, generate_from_shots,
                                 model_image_shape, read_shots)

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff',
                    '.webp')


def class_shot_paths(class_dir: str,
                     k: Optional[int] = None,
                     seed: int = 0) -> List[str]:
    """The shot images of one class folder.

    Args:
        class_dir (str): A folder of image files.
        k (int, optional): Take the first ``k`` after a shuffle seeded by
            ``seed``; all images (sorted by name) if None.
        seed (int): Seed of that shuffle.

    Raises:
        ShotImageError: The folder has no images, or fewer than ``k``.
    """
    paths = sorted(
        osp.join(class_dir, name) for name in os.listdir(class_dir)
        if name.lower().endswith(IMAGE_EXTENSIONS))
    if not paths or (k is not None and len(paths) < k):
        raise ShotImageError(
            f'{class_dir} has {len(paths)} image(s) but {k or 1} shot(s) are '
            'needed. Add images or lower --k.')
    if k is None:
        return paths
    return random.Random(seed).sample(paths, len(paths))[:k]


def generate_for_classes(model: torch.nn.Module,
                         shots_dir: str,
                         out_dir: str,
                         num: int,
                         k: Optional[int] = None,
                         steps: Optional[int] = None,
                         seed: int = 0,
                         convert: bool = False,
                         log: Callable[[str], None] = print,
                         progress: bool = True) -> Dict[str, object]:
    """Adapt to each class folder of ``shots_dir`` and generate.

    Writes ``out_dir/<class>/generated_XXXX.png`` and ``grid.png`` for every
    sub-folder of ``shots_dir``.  A class whose folder has too few or
    unreadable images is reported and skipped; the others are generated.

    Args:
        model: A meta-GAN, loaded once (e.g. by ``load_meta_model``).
        shots_dir (str): One sub-folder of images per class.
        out_dir (str): Output root.
        num (int): Images per class.
        k (int, optional): Shots per class (seeded choice); all if None.
        steps (int, optional): Adaptation steps (default: training's).
        seed (int): Seed of the shot choice, adaptation and generation.
        convert (bool): Convert colour <-> grayscale shots.
        log (callable): Where notes and failures go.
        progress (bool): Show a progress bar.

    Returns:
        dict: ``class name -> list of written files`` for the generated
        classes and ``class name -> error message`` for the skipped ones.

    Raises:
        FileNotFoundError: ``shots_dir`` is not a folder or has no class
            sub-folders.
    """
    if not osp.isdir(shots_dir):
        raise FileNotFoundError(f'--shots-dir {shots_dir} is not a folder.')
    classes = sorted(
        name for name in os.listdir(shots_dir)
        if osp.isdir(osp.join(shots_dir, name)))
    if not classes:
        raise FileNotFoundError(
            f'--shots-dir {shots_dir} has no class sub-folders: put the shots '
            'of each class in a folder of its own.')
    shape = model_image_shape(model)
    results: Dict[str, object] = {}
    bar = ProgressBar(len(classes)) if progress else None
    for name in classes:
        try:
            paths = class_shot_paths(osp.join(shots_dir, name), k, seed)
            shots = read_shots(paths, shape, convert, log)
        except ShotImageError as err:
            results[name] = str(err)
            log(f'skipped class {name}: {err}')
        else:
            results[name] = generate_from_shots(model, shots, num,
                                                osp.join(out_dir, name), steps,
                                                seed)
        if bar is not None:
            bar.update()
    return results
