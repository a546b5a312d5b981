"""Each compatibility fix of metagan_mm.compat, with and without it."""
import os
import pickle
import socket

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

import metagan_mm  # noqa: F401  (applies the fixes)
from metagan_mm import compat


def test_stack_check_passes_here():
    compat.check_stack()


def test_stack_check_names_mmcv_version_and_fix(monkeypatch):
    import mmcv
    monkeypatch.setattr(mmcv, '__version__', '2.2.0')
    with pytest.raises(compat.StackError) as info:
        compat.check_stack()
    assert 'mmcv 2.2.0' in str(info.value)
    assert '< 2.2.0' in str(info.value)
    assert 'tools/setup_env.sh' in str(info.value)


def test_stack_check_names_numpy_2(monkeypatch):
    monkeypatch.setattr(np, '__version__', '2.1.0')
    with pytest.raises(compat.StackError, match='numpy 2.1.0.*numpy==1.26.4'):
        compat.check_stack()


def test_stack_check_names_torch_mmcv_ops_mismatch(monkeypatch):
    real_import = compat.importlib.import_module

    def fake_import(name, *args):
        if name == 'mmcv._ext':
            raise ImportError('undefined symbol: _ZN3c10')
        return real_import(name, *args)

    monkeypatch.setattr(compat.importlib, 'import_module', fake_import)
    with pytest.raises(compat.StackError) as info:
        compat.check_stack()
    message = str(info.value)
    assert 'built for another torch' in message
    assert torch.__version__ in message
    assert 'undefined symbol' in message


def _checkpoint_with_history(path):
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.5)
    torch.save(
        {
            'meta': {
                'iter': 3
            },
            'message_hub': {
                'loss': buffer
            },
            'state_dict': {
                'w': torch.ones(2)
            }
        }, path)


def test_checkpoint_loading_fix(tmp_path):
    from mmengine.runner.checkpoint import CheckpointLoader
    path = str(tmp_path / 'iter_3.pth')
    _checkpoint_with_history(path)
    if tuple(int(v) for v in torch.__version__.split('.')[:2]) >= (2, 6):
        with pytest.raises(pickle.UnpicklingError):
            compat.ORIGINALS['checkpoint_loading'](path, 'cpu')
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert ckpt['meta']['iter'] == 3
    assert ckpt['message_hub']['loss'].current() == 1.5
    with pytest.raises(FileNotFoundError, match='does not exist'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'no.pth'))


class _Payload:
    """Unpickling it creates ``marker`` (what a malicious file would do)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


RESNET18_URL = 'https://download.pytorch.org/models/resnet18-f37072fd.pth'


def test_url_checkpoint_loading_fix(tmp_path, monkeypatch):
    """A crafted file in the hub cache (as a compromised mirror or cache
    leaves it) is refused by every mmengine URL scheme, ``init_cfg``
    Pretrained and mmagic's FID Inception; no download is made."""
    from mmagic.evaluation.functional import fid_inception
    from mmengine.model import BaseModule
    from mmengine.runner.checkpoint import CheckpointLoader

    from metagan_mm.checkpoint import UnsafeCheckpointError
    from metagan_mm.checkpoint.safe_load import trust_file, untrust_all
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    cache = tmp_path / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    marker = tmp_path / 'payload_ran'
    torch.save({
        'state_dict': {},
        'x': _Payload(marker)
    }, cache / 'resnet18-f37072fd.pth')
    torch.save({'x': _Payload(marker)},
               cache / fid_inception.FID_WEIGHTS_URL.split('/')[-1])
    pretrained = BaseModule(
        init_cfg=dict(type='Pretrained', checkpoint=RESNET18_URL))
    for load in (
            lambda: CheckpointLoader.load_checkpoint(RESNET18_URL),
            lambda: CheckpointLoader.load_checkpoint('torchvision://resnet18'),
            pretrained.init_weights,
            lambda: fid_inception.load_url(fid_inception.FID_WEIGHTS_URL),
    ):
        with pytest.raises(UnsafeCheckpointError, match='posix.system'):
            load()
        assert not marker.exists()
    trust_file(RESNET18_URL)  # the opt-in names the URL
    try:
        CheckpointLoader.load_checkpoint(RESNET18_URL)
    finally:
        untrust_all()
    assert marker.exists()


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _init_worker(rank, port, queue):
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE='2',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port))
    from mmengine import dist  # metagan_mm is imported with this module
    dist.init_dist('pytorch', backend='nccl')  # configs usually say nccl
    tensor = torch.tensor([float(rank + 1)])
    dist.all_reduce(tensor)
    queue.put((rank, torch_dist.get_backend(), float(tensor)))
    torch_dist.destroy_process_group()


@pytest.mark.slow  # two spawned processes import the package
@pytest.mark.skipif(torch.cuda.is_available(), reason='tests the CPU path')
def test_cpu_distributed_init_fix(monkeypatch):
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('LOCAL_RANK', '0')
    with pytest.raises((RuntimeError, AssertionError)):
        compat.ORIGINALS['cpu_distributed_init']('gloo')  # cuda.set_device
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    port = _free_port()
    procs = [
        ctx.Process(target=_init_worker, args=(rank, port, queue))
        for rank in (0, 1)
    ]
    for proc in procs:
        proc.start()
    results = sorted(queue.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join(60)
    assert results == [(0, 'gloo', 3.0), (1, 'gloo', 3.0)]


def test_ddp_device_ids_on_cpu_fix(tmp_path):
    from mmengine.model import MMDistributedDataParallel
    torch_dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path}/store', rank=0, world_size=1)
    try:
        module = nn.Linear(2, 2)
        with pytest.raises(ValueError, match='device_ids'):
            wrapper = MMDistributedDataParallel.__new__(
                MMDistributedDataParallel)
            compat.ORIGINALS['ddp_device_ids_on_cpu'](
                wrapper, module=module, device_ids=[0])
        wrapped = MMDistributedDataParallel(module=module, device_ids=[0])
        assert wrapped.device_ids is None
        out = wrapped.module(torch.ones(1, 2))
        assert out.shape == (1, 2)
    finally:
        torch_dist.destroy_process_group()


def test_dcgan_discriminator_init_fix():
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    torch.manual_seed(0)
    disc = MODELS.build(
        dict(
            type='DCGANDiscriminator',
            input_scale=32,
            output_scale=4,
            out_channels=1,
            in_channels=1))
    with pytest.raises(UnboundLocalError):
        compat.ORIGINALS['dcgan_discriminator_init'](disc)
    disc.init_weights()
    convs = [m for m in disc.modules() if isinstance(m, nn.Conv2d)]
    weights = torch.cat([c.weight.flatten() for c in convs])
    assert abs(float(weights.std()) - 0.02) < 0.004
    assert abs(float(weights.mean())) < 0.002


class CountConvolutions(TorchDispatchMode):
    """Counts ``aten.convolution`` calls, backward passes included."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten.convolution.default:
            self.calls += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize('up, down, padding', [(1, 1, 1), (2, 1, (2, 1)),
                                               (1, 2, 2)])
def test_upfirdn2d_cpu_double_backward_fix(up, down, padding):
    from mmcv.ops.upfirdn2d import upfirdn2d
    channels = 16
    kernel = torch.tensor([1., 3., 3., 1.])
    kernel = kernel[None] * kernel[:, None]
    kernel = kernel / kernel.sum()

    def penalty_grads(fn):
        torch.manual_seed(0)
        weight = torch.randn(channels, 3, 1, 1, requires_grad=True)
        x = torch.randn(2, 3, 6, 6, requires_grad=True)
        with CountConvolutions() as count:
            out = fn(
                nn.functional.conv2d(x, weight), kernel, up, down, padding)
            grad_x, = torch.autograd.grad(
                out.square().sum(), x, create_graph=True)
            grad_w, = torch.autograd.grad(grad_x.square().sum(), weight)
        return out, grad_x, grad_w, count.calls

    def original(x, f, up, down, padding):
        return compat.ORIGINALS['upfirdn2d_cpu_double_backward'](
            x, f, up=up, down=down, padding=padding)

    fixed = penalty_grads(
        lambda x, f, up, down, padding: upfirdn2d(x, f, up, down, padding))
    before = penalty_grads(original)
    for a, b in zip(fixed[:3], before[:3]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert before[3] > channels  # the filter's gradient, group by group
    assert fixed[3] < 10


def test_import_asks_no_server_for_albumentations_version():
    """albumentations (imported by mmagic) looks up pypi.org on import
    unless NO_ALBUMENTATIONS_UPDATE is set; ``import metagan_mm`` sets it."""
    import subprocess
    import sys
    code = ('import socket\n'
            'hosts = []\n'
            'def lookup(host, *args, **kwargs):\n'
            '    hosts.append(host)\n'
            '    raise OSError("offline")\n'
            'socket.getaddrinfo = lookup\n'
            'import metagan_mm, mmagic.models, albumentations\n'
            'print("HOSTS", hosts)\n')
    env = {
        k: v
        for k, v in os.environ.items() if k != 'NO_ALBUMENTATIONS_UPDATE'
    }
    out = subprocess.run([sys.executable, '-c', code],
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert 'HOSTS []' in out.stdout, out.stdout
