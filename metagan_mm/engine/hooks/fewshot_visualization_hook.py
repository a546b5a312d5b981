"""Write grids of few-shot adaptations during meta-training."""
import os
import os.path as osp
from typing import List, Optional, Union

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from PIL import Image
from torchvision.utils import make_grid

from metagan_mm.registry import DATASETS, HOOKS


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Map ``[-1, 1]`` images to ``uint8`` ``[0, 255]``."""
    return ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def fewshot_grid(support: torch.Tensor, generated: torch.Tensor,
                 nrow: int) -> np.ndarray:
    """One class's grid: the support row, then rows of generations.

    Args:
        support (Tensor): ``[K, C, H, W]`` in ``[-1, 1]``.
        generated (Tensor): ``[M, C, H, W]`` in ``[-1, 1]``.
        nrow (int): Images per row; the support row is padded with blanks.

    Returns:
        np.ndarray: ``H x W x 3`` uint8 RGB image.
    """
    support = support[:nrow]
    pad = support.new_full((nrow - support.shape[0], ) + support.shape[1:],
                           -1.0)
    images = torch.cat([support, pad, generated]).cpu()
    if images.shape[1] == 1:
        images = images.repeat(1, 3, 1, 1)
    grid = make_grid(to_uint8(images), nrow=nrow, padding=2, pad_value=128)
    return grid.permute(1, 2, 0).numpy()


@HOOKS.register_module()
class FewShotVisualizationHook(Hook):
    """Adapt to fixed unseen-class tasks and write ``support | generated``.

    Every ``interval`` iterations and after training, for the first
    ``num_classes`` classes of ``dataset`` (an ``EpisodicDataset`` in
    ``mode='eval'``, i.e. a fixed K-image conditioning set per unseen class)
    the hook adapts a copy of the meta-model (the meta-weights are not
    changed), generates ``num_samples`` images and stacks one block per
    class: the support row, then the generations.  The grid goes to every
    backend of the runner's visualizer (local PNG under
    ``vis_data/vis_image``, TensorBoard, ...) and, with ``save_png``, to
    ``work_dir/samples/fewshot_iter_{N}.png``.  After a test run
    (``tools/test.py``) it draws the tested checkpoint's grid once, with the
    test loop's ``steps``, to ``samples/fewshot_test_steps{S}.png``.

    Args:
        dataset (dict, optional): Config of the evaluation-mode episodic
            dataset. Default: the config's ``test_dataloader.dataset``
            (read when the run starts).
        interval (int): Every ``interval`` iterations. Defaults to 1000.
        num_classes (int): Classes shown. Defaults to 4.
        num_samples (int): Generated images per class. Defaults to 8.
        steps (int, optional): Adaptation steps (default: training's).
        seed (int): Seed of adaptation and generation. Defaults to 0.
        save_png (bool): Also write the PNG into ``work_dir/samples``.
    """

    priority = 'LOW'

    def __init__(self,
                 dataset: Union[dict, object, None] = None,
                 interval: int = 1000,
                 num_classes: int = 4,
                 num_samples: int = 8,
                 steps: Optional[int] = None,
                 seed: int = 0,
                 save_png: bool = True) -> None:
        self.dataset_cfg = dataset
        self.interval = interval
        self.num_classes = num_classes
        self.num_samples = num_samples
        self.steps = steps
        self.seed = seed
        self.save_png = save_png
        self._dataset = None
        self._last_iter = -1
        self.last_grid_path: Optional[str] = None

    def before_run(self, runner) -> None:
        """Take the test data set when no ``dataset`` was given."""
        if self.dataset_cfg is None:
            loader = runner.cfg.get('test_dataloader') or {}
            if 'dataset' not in loader:
                raise ValueError(
                    'FewShotVisualizationHook: no dataset given and the '
                    'config has no test_dataloader.dataset; set the hook\'s '
                    "dataset to an EpisodicDataset(mode='eval') config.")
            self.dataset_cfg = loader['dataset']

    @property
    def dataset(self):
        """The evaluation dataset (built on first use)."""
        if self._dataset is None:
            cfg = self.dataset_cfg
            self._dataset = DATASETS.build(cfg) if isinstance(cfg,
                                                              dict) else cfg
        return self._dataset

    def render(self, model) -> np.ndarray:
        """Adapt to each shown class and return the stacked grid."""
        model = model.module if is_model_wrapper(model) else model
        blocks: List[np.ndarray] = []
        for index in range(min(self.num_classes, len(self.dataset))):
            support = self.dataset[index]['inputs']['support']
            support = model.data_preprocessor(
                dict(inputs=support[None]), False)['inputs'][0]
            generated = model.generate_adapted(support, self.num_samples,
                                               self.steps, self.seed + index)
            blocks.append(fewshot_grid(support, generated, self.num_samples))
        return np.concatenate(blocks, axis=0)

    def _visualize(self,
                   runner,
                   step: int,
                   name: Optional[str] = None,
                   steps: Optional[int] = None) -> None:
        if name is None and step == self._last_iter:
            return
        self._last_iter = step
        own_steps = self.steps
        if steps is not None:
            self.steps = steps
        try:
            grid = self.render(runner.model)
        finally:
            self.steps = own_steps
        runner.visualizer.add_image('fewshot_adapted', grid, step=step)
        if self.save_png:
            out_dir = osp.join(runner.work_dir, 'samples')
            os.makedirs(out_dir, exist_ok=True)
            self.last_grid_path = osp.join(out_dir, name
                                           or f'fewshot_iter_{step}.png')
            Image.fromarray(grid).save(self.last_grid_path)
        runner.logger.info(f'few-shot grid of iteration {step} written '
                           f'({self.last_grid_path or "visualizer"})')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        """Every ``interval`` iterations."""
        if self.every_n_train_iters(runner, self.interval):
            self._visualize(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        """Once more at the end of training (unless just done)."""
        self._visualize(runner, runner.iter)

    def after_test(self, runner) -> None:
        """After ``tools/test.py``: the grid of the tested checkpoint, with
        the test loop's adaptation steps unless ``steps`` is set, to
        ``samples/fewshot_test_steps{S}.png``."""
        steps = self.steps
        if steps is None:
            steps = getattr(runner.test_loop, 'steps', None)
        if steps is None:
            model = runner.model.module if is_model_wrapper(
                runner.model) else runner.model
            steps = model.inner_loop.cfg.steps
        # runner.iter would build the train loop (and start its loader's
        # workers) in a test run; mmengine's LoggerHook avoids it the same way
        train_loop = runner._train_loop
        self._visualize(
            runner,
            train_loop.iter if isinstance(train_loop, BaseLoop) else 0,
            name=f'fewshot_test_steps{steps}.png',
            steps=steps)
