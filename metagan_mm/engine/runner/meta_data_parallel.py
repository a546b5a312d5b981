"""A distributed model wrapper for meta-learners, on CPU (gloo) and CUDA."""
from typing import Any, Dict, List, Union

import torch
from mmengine import dist
from torch import nn

from metagan_mm.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class MetaDataParallel(nn.Module):
    """Wrap a meta-learner for distributed training without DDP hooks.

    Meta-learning adapts fast weights in inner loops whose gradients must
    never be synchronised; only the meta-gradient is averaged across ranks,
    once per meta-iteration, by the model itself (see
    :meth:`metagan_mm.models.MetaGAN.sync_meta_gradients`).  DDP's
    reducer would fight that, so this wrapper does what is left of DDP's job:
    it broadcasts parameters and buffers from rank 0 when it is built, so
    every rank starts from identical meta-weights, and it forwards
    ``train_step`` to the module (the few-shot evaluation loops call the
    unwrapped model's ``fewshot_step``).

    It works on CPU with gloo and on CUDA with NCCL alike: it takes no
    ``device_ids`` and never calls ``torch.cuda.set_device``.  Use it with::

        model_wrapper_cfg = dict(type='MetaDataParallel')

    Args:
        module (nn.Module): The model to wrap.
        broadcast_buffers (bool): Also broadcast buffers from rank 0.
            Defaults to True.
        **kwargs: DDP-only arguments mmengine may pass
            (``find_unused_parameters``, ``device_ids``...); ignored.
    """

    def __init__(self,
                 module: nn.Module,
                 broadcast_buffers: bool = True,
                 **kwargs: Any) -> None:
        super().__init__()
        self.module = module
        if dist.get_world_size() > 1:
            tensors: List[torch.Tensor] = [p.data for p in module.parameters()]
            if broadcast_buffers:
                tensors += [b.data for b in module.buffers()]
            for tensor in tensors:
                dist.broadcast(tensor, src=0)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Any) -> Dict[str, torch.Tensor]:
        """Run one (meta-)training step of the wrapped module."""
        return self.module.train_step(data, optim_wrapper)
