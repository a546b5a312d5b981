"""The one place where metagan-mm mends this stack's known breakages.

mmengine 0.10.7, mmcv 2.1.0 and mmagic 1.2.0 predate torch 2.6+ and a few of
their parts are broken as shipped.  :func:`apply_all` (run by
``import metagan_mm`` before anything from mmagic is imported) applies each
fix once; every fix is idempotent and has a test in ``tests/test_compat.py``
that fails without it.

Fixes:

* :func:`check_stack` -- a torch/mmcv/numpy mismatch gives one clear message
  naming the problem and the fix instead of a deep traceback.
* :func:`fix_checkpoint_loading` -- torch >= 2.6 loads with
  ``weights_only=True`` by default, so mmengine's ``--resume`` fails on the
  ``HistoryBuffer`` and numpy objects its message hub stores.  The fix keeps
  the safe unpickler and allows exactly those types, for mmengine's
  local-file loads only (:mod:`metagan_mm.checkpoint.safe_load`); torch's
  default stays in force for every other ``torch.load``.
* :func:`fix_url_checkpoint_loading` -- mmengine's ``http(s)://``,
  ``torchvision://``, ``open-mmlab://`` and ``mmcls://`` loaders
  (``load_from``, ``resume``, ``init_cfg=dict(type='Pretrained')``) and
  mmagic's FID
  Inception go through :func:`torch.hub.load_state_dict_from_url`, which
  unpickles with ``weights_only=False``: a crafted file at (or cached for)
  a URL ran its code.  Those two callers load the downloaded file with the
  same safe loader instead; torch's own function is left as it is.
* :func:`fix_cpu_distributed_init` -- mmengine's ``pytorch`` launcher calls
  ``torch.cuda.set_device`` unconditionally and configs ask for NCCL; on a
  machine without CUDA we skip ``set_device`` and use gloo.
* :func:`fix_ddp_device_ids_on_cpu` -- mmengine's runner passes
  ``device_ids=[LOCAL_RANK]`` to every DDP wrapper; DDP rejects
  ``device_ids`` for CPU modules.
* :func:`fix_dcgan_discriminator_init` -- mmagic's
  ``DCGANDiscriminator.init_weights`` raises ``UnboundLocalError`` for every
  module that is neither a conv nor a BatchNorm (the first is the model
  itself).
* :func:`fix_upfirdn2d_cpu_double_backward` -- mmcv's CPU ``upfirdn2d``
  (StyleGAN2's blur) filters with a depthwise convolution (``groups`` = the
  channels); torch's double backward of a grouped convolution computes the
  filter's gradient one group at a time, even for a constant filter, so
  every gradient penalty or second-order step through a 512-channel blur
  ran 512 tiny convolutions. The same filter as one single-channel
  convolution over ``N * C`` images gives the same values in one call.
* :func:`stop_albumentations_update_check` -- albumentations (imported by
  mmagic) asks PyPI for its latest version on import: a network call at run
  time, a 2 s wait and a warning on an offline machine. Its own switch,
  ``NO_ALBUMENTATIONS_UPDATE``, is set unless the user set it.
"""
import importlib
import os
import warnings
from typing import Any, Callable, Dict, List

_APPLIED: Dict[str, bool] = {}
#: What each fix replaced, by fix name (for tests and for undoing a fix).
ORIGINALS: Dict[str, Any] = {}

MMCV_MIN, MMCV_MAX = (2, 0, 0), (2, 2, 0)
SETUP_HINT = ('Re-run the set-up command from README.md: '
              'bash tools/setup_env.sh')


class StackError(ImportError):
    """Raised when the installed OpenMMLab stack cannot work together."""


def _version_tuple(version: str) -> tuple:
    parts: List[int] = []
    for piece in version.split('+')[0].split('.')[:3]:
        digits = ''.join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _once(name: str) -> Callable:
    """Decorator making a fix idempotent, keyed by ``name``."""

    def wrap(func: Callable) -> Callable:

        def run(*args: Any, **kwargs: Any) -> Any:
            if _APPLIED.get(name):
                return None
            result = func(*args, **kwargs)
            _APPLIED[name] = True
            return result

        run.__name__ = func.__name__
        run.__doc__ = func.__doc__
        return run

    return wrap


def check_stack() -> None:
    """Check that torch, numpy, mmcv (with ops), mmengine and mmagic fit.

    Raises:
        StackError: naming the mismatch and how to fix it.
    """
    problems = []
    try:
        import numpy as np
        if _version_tuple(np.__version__) >= (2, 0, 0):
            problems.append(
                f'numpy {np.__version__} is installed but mmagic 1.2.0 needs '
                'numpy < 2 (it uses np.bool8). Fix: pip install numpy==1.26.4')
    except ImportError:
        problems.append('numpy is not installed.')
    try:
        import torch
    except ImportError:
        raise StackError(f'torch is not installed. {SETUP_HINT}') from None
    try:
        import mmcv
    except ImportError:
        raise StackError(f'mmcv is not installed. {SETUP_HINT}') from None
    mmcv_version = _version_tuple(mmcv.__version__)
    if not MMCV_MIN <= mmcv_version < MMCV_MAX:
        problems.append(
            f'mmcv {mmcv.__version__} is installed but mmagic 1.2.0 needs '
            'mmcv >= 2.0.0 and < 2.2.0.')
    try:
        importlib.import_module('mmcv._ext')
    except ImportError as err:
        problems.append(
            'mmcv was installed without its compiled ops or was built for '
            f'another torch (installed torch {torch.__version__}; loading '
            f'mmcv._ext said: {err}). mmagic.models imports mmcv.ops, so '
            'mmcv must be rebuilt with ops against this torch.')
    if problems:
        raise StackError('The OpenMMLab stack does not fit together:\n  - ' +
                         '\n  - '.join(problems) + f'\n{SETUP_HINT}')


@_once('checkpoint_loading')
def fix_checkpoint_loading() -> None:
    """Let mmengine load its own checkpoints (resume) under torch >= 2.6.

    mmengine's local-file loader is replaced by
    :func:`metagan_mm.checkpoint.load_checkpoint_file`: torch's safe
    unpickler plus, for that load only, the message hub's ``HistoryBuffer``
    and numpy types; a file that needs anything else is refused with a
    message naming it and the ``--trust-checkpoint`` opt-in.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    from metagan_mm.checkpoint.safe_load import load_checkpoint_file
    ORIGINALS['checkpoint_loading'] = CheckpointLoader._schemes['']

    def load_from_local(filename: str, map_location: Any = None) -> Any:
        return load_checkpoint_file(filename, map_location)

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)


@_once('url_checkpoint_loading')
def fix_url_checkpoint_loading() -> None:
    """Load checkpoints given by URL (every mmengine scheme that downloads,
    and mmagic's FID Inception weights) without running code from them."""
    from mmagic.evaluation.functional import fid_inception
    from mmengine.runner import checkpoint

    from metagan_mm.checkpoint.safe_load import load_url_checkpoint
    ORIGINALS['url_checkpoint_loading'] = (checkpoint.load_url,
                                           fid_inception.load_url)
    checkpoint.load_url = load_url_checkpoint
    fid_inception.load_url = load_url_checkpoint


@_once('cpu_distributed_init')
def fix_cpu_distributed_init() -> None:
    """Let ``launcher='pytorch'`` initialise on machines without CUDA."""
    import torch
    from mmengine.dist import utils as dist_utils
    original = dist_utils._init_dist_pytorch
    ORIGINALS['cpu_distributed_init'] = original

    def _init_dist_pytorch(backend: str,
                           init_backend: str = 'torch',
                           **kwargs: Any) -> None:
        if torch.cuda.is_available():
            return original(backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            backend = 'gloo'  # NCCL needs CUDA; gloo runs on CPU.
        torch.distributed.init_process_group(backend=backend, **kwargs)

    dist_utils._init_dist_pytorch = _init_dist_pytorch


@_once('ddp_device_ids_on_cpu')
def fix_ddp_device_ids_on_cpu() -> None:
    """Drop ``device_ids`` when mmengine wraps a CPU module in DDP."""
    from mmengine.model.wrappers.distributed import MMDistributedDataParallel
    original = MMDistributedDataParallel.__init__
    ORIGINALS['ddp_device_ids_on_cpu'] = original

    def __init__(self: Any, module: Any, *args: Any, **kwargs: Any) -> None:
        param = next(module.parameters(), None)
        if param is not None and param.device.type == 'cpu':
            kwargs['device_ids'] = None
            kwargs.pop('output_device', None)
        original(self, module, *args, **kwargs)

    MMDistributedDataParallel.__init__ = __init__


@_once('dcgan_discriminator_init')
def fix_dcgan_discriminator_init() -> None:
    """Mend ``DCGANDiscriminator.init_weights`` (UnboundLocalError)."""
    from mmagic.models.editors.dcgan import dcgan_discriminator as module
    from mmengine.model.weight_init import normal_init, update_init_info
    from torch import nn
    from torch.nn.modules.batchnorm import _BatchNorm

    ORIGINALS['dcgan_discriminator_init'] = \
        module.DCGANDiscriminator.init_weights

    def init_weights(self: Any) -> None:
        """DCGAN's initialisation (N(0, 0.02) convs, N(1, .) BatchNorm)."""
        if self.init_cfg is not None and self.init_cfg['type'] == 'Pretrained':
            super(module.DCGANDiscriminator, self).init_weights()
            return
        for m in self.modules():
            name = m.__class__.__name__
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                normal_init(m, 0, 0.02)
                info = f'{name}: DCGAN init, normal(0, 0.02)'
            elif isinstance(m, _BatchNorm):
                nn.init.normal_(m.weight.data)
                nn.init.constant_(m.bias.data, 0)
                info = f'{name}: DCGAN init, weight normal, bias 0'
            else:
                continue
            if hasattr(m, '_params_init_info'):
                update_init_info(m, info)

    module.DCGANDiscriminator.init_weights = init_weights


@_once('upfirdn2d_cpu_double_backward')
def fix_upfirdn2d_cpu_double_backward() -> None:
    """Run mmcv's CPU ``upfirdn2d`` on ``[N * C, 1, H, W]`` (one
    single-channel convolution instead of a depthwise one)."""
    module = importlib.import_module('mmcv.ops.upfirdn2d')
    original = module._upfirdn2d_ref
    ORIGINALS['upfirdn2d_cpu_double_backward'] = original

    def _upfirdn2d_ref(input: Any, filter: Any, *args: Any,
                       **kwargs: Any) -> Any:
        n, c, h, w = input.shape
        out = original(input.reshape(n * c, 1, h, w), filter, *args, **kwargs)
        return out.reshape(n, c, *out.shape[2:])

    module._upfirdn2d_ref = _upfirdn2d_ref


def stop_albumentations_update_check() -> None:
    """Keep albumentations from asking PyPI for its version on import
    (a user's own ``NO_ALBUMENTATIONS_UPDATE`` is left as it is)."""
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')


def silence_known_warnings() -> None:
    """Hide the FutureWarning diffusers 0.24 prints on every import."""
    warnings.filterwarnings(
        'ignore', message='.*_register_pytree_node.*', category=FutureWarning)


def apply_all(check: bool = True) -> None:
    """Check the stack and apply every fix (idempotent).

    Args:
        check (bool): Whether to run :func:`check_stack` first.
    """
    silence_known_warnings()
    stop_albumentations_update_check()
    if check:
        check_stack()
    fix_checkpoint_loading()
    fix_url_checkpoint_loading()
    fix_cpu_distributed_init()
    fix_ddp_device_ids_on_cpu()
    fix_dcgan_discriminator_init()
    fix_upfirdn2d_cpu_double_backward()
