"""Tiny meta-GAN models and batches shared by the model tests."""
import pytest
import torch
from mmagic.structures import DataSample
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import init_default_scope

import metagan_mm  # noqa: F401
from metagan_mm.registry import MODELS

NZ = 8


def model_cfg(type_='ReptileGAN', **extra):
    """A 32x32 FIGR meta-GAN with 4 base channels and 2 inner SGD steps."""
    cfg = dict(
        type=type_,
        data_preprocessor=dict(
            type='DataPreprocessor', mean=[127.5], std=[127.5],
            data_keys=None),
        generator=dict(
            type='FIGRDCGANGenerator',
            noise_size=NZ,
            out_scale=32,
            out_channels=1,
            base_channels=4),
        discriminator=dict(
            type='FIGRDCGANDiscriminator',
            in_scale=32,
            in_channels=1,
            base_channels=4),
        inner_loop=dict(steps=2, g_lr=0.05, d_lr=0.05, optimizer='sgd'))
    cfg.update(extra)
    return cfg


def build(cfg):
    """Build a model from ``cfg`` with a fixed seed."""
    init_default_scope('mmagic')
    torch.manual_seed(0)
    return MODELS.build(cfg)


def optim(model, lr=1.0, names=('generator', 'discriminator')):
    """SGD optimizer wrappers for the named submodules."""
    return OptimWrapperDict(
        **{
            name:
            OptimWrapper(
                torch.optim.SGD(getattr(model, name).parameters(), lr=lr))
            for name in names
        })


def batch(num_tasks=2, num_images=4, seed=0, k_shot=4):
    """A collated meta-batch of random uint8 tasks."""
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randint(
        0,
        256, (num_tasks, num_images, 1, 32, 32),
        generator=gen,
        dtype=torch.uint8)
    samples = [
        DataSample(metainfo=dict(task_index=i, k_shot=k_shot))
        for i in range(num_tasks)
    ]
    return dict(inputs=inputs, data_samples=samples)


def params(module):
    """Detached copies of a module's parameters."""
    return {k: v.detach().clone() for k, v in module.named_parameters()}


@pytest.fixture(autouse=True)
def message_hub():
    """A MessageHub at iteration 0, as the runner would provide."""
    hub = MessageHub.get_instance('meta_gan_tests')
    hub.update_info('iter', 0)
    return hub
