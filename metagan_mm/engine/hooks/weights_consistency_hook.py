"""Check that every rank holds the same meta-weights."""
import json
import os.path as osp
from typing import Dict, List, Optional

import torch
from mmengine import dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from metagan_mm.registry import HOOKS


def weights_fingerprint(module: torch.nn.Module) -> Dict[str, float]:
    """Fingerprint each parameter tensor: sum and sum of squares (float64).

    Args:
        module (nn.Module): The module to fingerprint.

    Returns:
        dict: ``{name: [sum, sum_of_squares]}`` flattened into floats.
    """
    out: Dict[str, float] = {}
    for name, param in module.named_parameters():
        data = param.detach().double()
        out[f'{name}:sum'] = float(data.sum())
        out[f'{name}:sq'] = float((data * data).sum())
    return out


@HOOKS.register_module()
class WeightsConsistencyHook(Hook):
    """Fail fast when the meta-weights of distributed ranks drift apart.

    Every ``interval`` iterations (and after training) each rank computes a
    fingerprint of its parameters; rank 0 gathers them and raises if any rank
    differs by more than ``atol``.  With ``dump=True`` each rank also writes
    its fingerprint to ``work_dir/weights_rank{r}.json`` after training.

    Args:
        interval (int): Check every ``interval`` iterations. Defaults to 50.
        atol (float): Allowed absolute difference. Defaults to 0.
        dump (bool): Write the per-rank fingerprints after training.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 50,
                 atol: float = 0.0,
                 dump: bool = False) -> None:
        self.interval = interval
        self.atol = atol
        self.dump = dump

    def _check(self, runner, tag: str) -> Optional[Dict[str, float]]:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        mine = weights_fingerprint(model)
        if dist.get_world_size() == 1:
            return mine
        gathered: List[Dict[str, float]] = dist.all_gather_object(mine)
        for rank, theirs in enumerate(gathered[1:], start=1):
            bad = [
                k for k in mine if abs(theirs[k] - gathered[0][k]) > self.atol
            ]
            if bad:
                raise RuntimeError(
                    f'{tag}: rank {rank} holds different weights than rank 0 '
                    f'for {len(bad)} tensors (first: {bad[0]}). '
                    'Meta-gradients were not averaged across ranks; use '
                    "model_wrapper_cfg=dict(type='MetaDataParallel') and a "
                    'model that calls sync_meta_gradients().')
        return mine

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        """Check every ``interval`` iterations."""
        if self.every_n_train_iters(runner, self.interval):
            self._check(runner, f'iter {runner.iter + 1}')

    def after_train(self, runner) -> None:
        """Check once more and optionally dump the fingerprints."""
        mine = self._check(runner, 'after training')
        if self.dump:
            path = osp.join(runner.work_dir,
                            f'weights_rank{dist.get_rank()}.json')
            with open(path, 'w') as f:
                json.dump(mine, f)
