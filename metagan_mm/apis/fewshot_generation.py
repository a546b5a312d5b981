"""Few-shot generation from a trained meta-GAN: K images in, new images out."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image, UnidentifiedImageError

from metagan_mm.architectures import condition_size
from metagan_mm.checkpoint import load_model_weights, save_atomically
from metagan_mm.engine.hooks.fewshot_visualization_hook import (fewshot_grid,
                                                                to_uint8)
from metagan_mm.registry import MODELS
from metagan_mm.utils.runner_setup import enable_amp


class ShotImageError(ValueError):
    """An input shot cannot be used (unreadable, wrong channels)."""


def load_meta_model(config: str,
                    checkpoint: str,
                    device: str = 'cpu',
                    use_ema: bool = False,
                    trust: Optional[bool] = None,
                    log=print,
                    amp: bool = False) -> torch.nn.Module:
    """Build the config's model and load a checkpoint's weights into it.

    The checkpoint is loaded safely (see
    :func:`metagan_mm.checkpoint.load_checkpoint_file`) and must hold every
    weight of the model, with the same shapes, and no other
    (:class:`~metagan_mm.checkpoint.CheckpointMismatchError` otherwise).

    Args:
        config (str): Config file used for training.
        checkpoint (str): ``.pth`` written by ``tools/train.py``.
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:1'``...
        use_ema (bool): Generate from the checkpoint's EMA generator.
        trust (bool, optional): Full unpickling for a trusted file.
        log (callable): Where the line naming the weights used goes.
        amp (bool): Adapt and generate under mixed precision, as
            ``tools/train.py --amp`` trains
            (:func:`~metagan_mm.utils.runner_setup.enable_amp`).

    Returns:
        nn.Module: The meta-model in eval mode.
    """
    for path, what in ((config, 'config'), (checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} file {path} does not exist.')
    cfg = Config.fromfile(config)
    if amp:
        enable_amp(cfg)
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    model = MODELS.build(cfg.model)
    load_model_weights(model, checkpoint, use_ema, trust, log)
    return model.to(device).eval()


def model_image_shape(model: torch.nn.Module) -> Tuple[int, int, int]:
    """``(C, H, W)`` of the images the model's generator makes (the
    model's ``image_shape`` where it has one, e.g. a fusion model; a
    conditioned generator is probed with a zero condition)."""
    shape = getattr(model, 'image_shape', None)
    if shape is not None:
        return tuple(shape)
    with torch.no_grad():
        args = [torch.zeros(1, model.noise_size, device=model.device)]
        size = condition_size(model.generator)
        if size is not None:
            args.append(torch.zeros(1, size, device=model.device))
        return tuple(model.generator(*args).shape[1:])  # type: ignore


def read_shots(paths: Sequence[str],
               shape: Tuple[int, int, int],
               convert: bool = False,
               log=print) -> torch.Tensor:
    """Read K shot images as a ``[K, C, H, W]`` uint8 tensor.

    Images whose size differs from the model's are resized with area
    interpolation, as the training pipelines do, and the log says so.

    Args:
        paths (Sequence[str]): Image files.
        shape (tuple): ``(C, H, W)`` the model expects.
        convert (bool): Convert colour to grayscale (or back) instead of
            raising when the channel count differs.
        log (callable): Where notes go.

    Raises:
        FileNotFoundError: A path does not exist.
        ShotImageError: A file is not a readable image, or its channels do
            not match the model and ``convert`` is False.
    """
    channels, height, width = shape
    mode = {1: 'L', 3: 'RGB'}[channels]
    images: List[np.ndarray] = []
    for path in paths:
        if not osp.isfile(path):
            raise FileNotFoundError(f'shot image {path} does not exist.')
        try:
            with Image.open(path) as img:
                img.load()
                image = img
        except (UnidentifiedImageError, OSError) as err:
            raise ShotImageError(
                f'shot image {path} cannot be read as an image ({err}). '
                'Pass PNG or JPEG files.') from None
        found = f'{len(image.getbands())} channels ({image.mode})'
        if image.mode in ('1', 'P', 'I', 'I;16', 'F'):
            image = image.convert('L' if channels == 1 else 'RGB')
        elif image.mode in ('LA', 'RGBA'):
            found = (f'{len(image.getbands())} channels ({image.mode}: '
                     f'{image.mode[:-1]} and alpha, which is dropped)')
            image = image.convert(image.mode[:-1])
        if len(image.getbands()) != channels:
            if not convert:
                raise ShotImageError(
                    f'shot image {path} has {found} but the model makes '
                    f'{channels}-channel images. Convert it or pass '
                    '--convert.')
            log(f'converted {path} from {image.mode} to {mode}')
            image = image.convert(mode)
        if image.size != (width, height):
            log(f'resized {path} from {image.size[0]}x{image.size[1]} to '
                f'{width}x{height} (area interpolation, like the training '
                'pipeline)')
            image = image.resize((width, height), Image.BOX)
        array = np.asarray(image, dtype=np.uint8)
        images.append(array[..., None] if array.ndim == 2 else array)
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


def generate_from_shots(model: torch.nn.Module,
                        shots: torch.Tensor,
                        num: int,
                        out_dir: str,
                        steps: Optional[int] = None,
                        seed: int = 0) -> List[str]:
    """Adapt to ``shots`` and write ``num`` images plus ``grid.png``.

    Args:
        model: A meta-GAN (``MetaGAN``).
        shots (Tensor): ``[K, C, H, W]`` uint8 images.
        num (int): Images to generate.
        out_dir (str): Output folder (created).
        steps (int, optional): Adaptation steps (default: training's).
        seed (int): Seed of adaptation and generation.

    Returns:
        list[str]: The written files, the grid last.
    """
    support = model.data_preprocessor(
        dict(inputs=shots[None].to(model.device)), False)['inputs'][0]
    fake = model.generate_adapted(support, num, steps, seed)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for i, image in enumerate(to_uint8(fake.cpu())):
        array = image.permute(1, 2, 0).numpy()
        path = osp.join(out_dir, f'generated_{i:04d}.png')
        if array.shape[2] == 1:
            array = array[..., 0]
        save_atomically(lambda f: Image.fromarray(array).save(f, format='PNG'),
                        path)
        written.append(path)
    grid = fewshot_grid(
        support.cpu(), fake.cpu(), nrow=max(support.shape[0], min(num, 8)))
    grid_path = osp.join(out_dir, 'grid.png')
    save_atomically(lambda f: Image.fromarray(grid).save(f, format='PNG'),
                    grid_path)
    written.append(grid_path)
    return written
