"""Config loading and runner building shared by ``tools/*.py``."""
import logging
import os.path as osp
from typing import Optional, Union

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS, init_default_scope
from mmengine.runner import Runner
from mmengine.runner.checkpoint import CheckpointLoader

from metagan_mm.checkpoint import (ATOMIC_BACKEND_ARGS,
                                   find_resumable_checkpoint,
                                   load_model_weights)
from metagan_mm.checkpoint.model_weights import check_model_weights
from metagan_mm.checkpoint.safe_load import trust_file
from metagan_mm.models import MetaGAN
from metagan_mm.registry import MODELS
from metagan_mm.utils.config_check import check_top_level_keys


def load_config(config: str,
                work_dir: Optional[str] = None,
                cfg_options: Optional[dict] = None,
                launcher: str = 'none') -> Config:
    """Read a config, merge overrides, pick the work dir and check its keys.

    Args:
        config (str): Path of the config file.
        work_dir (str, optional): Overrides ``cfg.work_dir``; the default is
            ``work_dirs/<config name>``.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        launcher (str): Job launcher.

    Returns:
        Config: The checked config.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(
            f'config file {config} does not exist. Pass the path of a config '
            'such as configs/reptile/'
            'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py.')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    check_top_level_keys(cfg)
    return cfg


def enable_amp(cfg: Config) -> None:
    """``--amp``: mixed precision where the compute is.

    A meta-learned model (a :class:`~metagan_mm.models.MetaGAN`) runs its
    inner loop, where all its compute is, under autocast:
    ``model.inner_loop.amp=dict(dtype='auto')`` unless the config sets it
    (its optimizer wrappers are left alone: the meta-gradients and the
    outer step are fp32). Any other model gets mmagic's meaning: every
    optimizer wrapper becomes an ``AmpOptimWrapper``.
    """
    model_type = cfg.model.get('type')
    if not isinstance(model_type, type):
        model_type = MODELS.get(model_type)
    if isinstance(model_type, type) and issubclass(model_type, MetaGAN):
        inner = cfg.model.setdefault('inner_loop', {})
        if inner.get('amp') is None:
            inner['amp'] = dict(dtype='auto')
        return
    optim = cfg.optim_wrapper
    wrappers = [optim] if 'optimizer' in optim else [
        v for k, v in optim.items()
        if isinstance(v, dict) and k != 'constructor'
    ]
    for wrapper in wrappers:
        if wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            continue
        assert wrapper.get('type', 'OptimWrapper') == 'OptimWrapper', (
            '--amp needs OptimWrapper, got ' + str(wrapper.get('type')))
        wrapper.type = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')


def _atomic_checkpoints(cfg: Config) -> None:
    """Save the checkpoint hook's files atomically (see
    :class:`~metagan_mm.checkpoint.AtomicLocalBackend`), unless the config
    chose a storage backend itself."""
    hook = cfg.get('default_hooks', {}).get('checkpoint')
    if (hook and hook.get('type') in ('CheckpointHook', None)
            and hook.get('backend_args') is None
            and hook.get('file_client_args') is None
            and '://' not in str(hook.get('out_dir') or '')):
        hook.backend_args = dict(ATOMIC_BACKEND_ARGS)


def _auto_resume(cfg: Config, trust: Optional[bool]) -> None:
    """Point ``cfg.load_from`` at the newest readable checkpoint of the work
    dir; say so when there is none (training then starts afresh)."""
    found = find_resumable_checkpoint(
        cfg.work_dir,
        trust=trust,
        warn=lambda msg: print_log(msg, logger='current'))
    cfg.resume = found is not None
    cfg.load_from = found
    if found is None:
        why = ('does not exist' if not osp.isdir(cfg.work_dir) else
               'has no checkpoint (iter_N.pth)')
        print_log(
            f'--resume: the work dir {osp.abspath(cfg.work_dir)} {why}, so '
            'there is nothing to resume: training starts at iteration 0. If '
            'you meant to continue a run, check --work-dir.',
            logger='current',
            level=logging.WARNING)


def build_runner(config: Union[str, Config],
                 work_dir: Optional[str] = None,
                 cfg_options: Optional[dict] = None,
                 launcher: str = 'none',
                 resume: Optional[str] = None,
                 amp: bool = False,
                 checkpoint: Optional[str] = None,
                 use_ema: bool = False,
                 trust_checkpoint: bool = False) -> Runner:
    """Build the runner a config asks for (``runner_type`` honoured).

    The model checkpoint (``resume``, ``load_from`` or ``checkpoint``) must
    hold every weight of the model with its shape and no other; else one
    error names the keys and the config the checkpoint was trained with
    (:class:`~metagan_mm.checkpoint.CheckpointMismatchError`). One
    exception: ``load_from`` without resuming may lack the weights of the
    meta-learner's own modules (Meta-SGD's ``inner_rates``), which then
    start from the config.

    Args:
        config (str | Config): Path of the config file, or the config
            :func:`load_config` read (then ``work_dir``, ``cfg_options``
            and ``launcher`` are not used).
        work_dir (str, optional): Work directory override.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        launcher (str): Job launcher.
        resume (str, optional): ``'auto'`` resumes from the newest readable
            checkpoint of the work dir (damaged ones are named and skipped),
            a path from that checkpoint.
        amp (bool): Enable automatic mixed precision (:func:`enable_amp`).
        checkpoint (str, optional): Weights to load into the model
            (``tools/test.py``), strictly
            (:func:`~metagan_mm.checkpoint.load_model_weights`).
        use_ema (bool): With ``checkpoint``: use its EMA generator weights.
        trust_checkpoint (bool): Load that one model checkpoint with full
            unpickling (``--trust-checkpoint``); every other file stays
            safe.

    Returns:
        Runner: The runner.
    """
    cfg = config if isinstance(config, Config) else load_config(
        config, work_dir, cfg_options, launcher)
    if amp:
        enable_amp(cfg)
    _atomic_checkpoints(cfg)
    if resume is None and cfg.get('resume') and not cfg.get('load_from'):
        resume = 'auto'  # the config asks to resume: the same search
    if resume == 'auto':
        _auto_resume(cfg, trust_checkpoint or None)
    elif resume is not None:
        if not osp.isfile(resume):
            raise FileNotFoundError(
                f'checkpoint {resume} given to --resume does not exist. Pass '
                'an existing .pth file, or --resume alone to resume from the '
                'latest checkpoint of the work dir.')
        cfg.resume = True
        cfg.load_from = resume
    if trust_checkpoint:
        for name in (cfg.get('load_from'), checkpoint):
            if name:
                trust_file(name)
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else \
        RUNNERS.build(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    if cfg.get('load_from'):
        # a new run may start a meta-learner's own modules (Meta-SGD's
        # inner rates) from the config, e.g. from a MAML or plain checkpoint
        algorithm = getattr(model, 'algorithm', None)
        own = [] if cfg.get('resume') or algorithm is None else list(
            algorithm.modules())
        check_model_weights(
            model,
            CheckpointLoader.load_checkpoint(
                cfg.load_from, map_location='cpu', logger='silent'),
            cfg.load_from, own)
    if checkpoint is not None:
        load_model_weights(model, checkpoint, use_ema, log=runner.logger.info)
    return runner


def close_distributed() -> None:
    """End a distributed run on every rank together.

    Without it each rank leaves with its process group alive; a rank whose
    peer has already exited can then abort at interpreter shutdown (gloo:
    ``terminate called without an active exception``), failing a finished
    run.  A barrier, then the group is destroyed.
    """
    if torch.distributed.is_available() and \
            torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
