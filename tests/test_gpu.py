"""On a CUDA device the meta-iteration runs there and batches the tasks of
a net that the CPU runs one task at a time (``batching.mode='auto'``)."""
import pytest
import torch
from meta_gan_helpers import message_hub  # noqa: F401
from meta_gan_helpers import batch, build, model_cfg, optim, params

pytestmark = pytest.mark.gpu


def test_auto_batching_vmaps_a_large_net_on_cuda_and_trains_it():
    cfg = model_cfg()
    # full width: 1.73M parameters, above the CPU's vmap limit
    cfg['generator']['base_channels'] = 64
    cfg['discriminator']['base_channels'] = 64
    model = build(cfg)
    model = model.cuda()
    before = params(model)
    logs = model.train_step(batch(num_tasks=4), optim(model, 0.1))
    assert float(logs['tasks_batched']) == 1.0
    assert float(logs['tasks_skipped']) == 0.0
    after = params(model)
    assert all(v.is_cuda and torch.isfinite(v).all() for v in after.values())
    for prefix in ('generator.', 'discriminator.'):
        assert any(not torch.equal(before[k], after[k]) for k in before
                   if k.startswith(prefix)), prefix
