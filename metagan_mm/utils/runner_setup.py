"""Config loading and runner building shared by ``tools/*.py``."""
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

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
            'such as configs/reptile/reptile_figr-dcgan_glyphs-32x32.py.')
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


def _enable_amp(cfg: Config) -> None:
    """Switch every optimizer wrapper of ``cfg`` to ``AmpOptimWrapper``."""
    optim = cfg.optim_wrapper
    wrappers = [optim] if 'optimizer' in optim else [
        v for k, v in optim.items() if isinstance(v, dict) and k != 'constructor'
    ]
    for wrapper in wrappers:
        if wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            continue
        assert wrapper.get('type', 'OptimWrapper') == 'OptimWrapper', (
            '--amp needs OptimWrapper, got ' + str(wrapper.get('type')))
        wrapper.type = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')


def build_runner(config: str,
                 work_dir: Optional[str] = None,
                 cfg_options: Optional[dict] = None,
                 launcher: str = 'none',
                 resume: Optional[str] = None,
                 amp: bool = False,
                 checkpoint: Optional[str] = None) -> Runner:
    """Build the runner a config asks for (``runner_type`` honoured).

    Args:
        config (str): Path of the config file.
        work_dir (str, optional): Work directory override.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        launcher (str): Job launcher.
        resume (str, optional): ``'auto'`` resumes from the latest checkpoint
            of the work dir, a path from that checkpoint.
        amp (bool): Enable automatic mixed precision.
        checkpoint (str, optional): Weights to load (``tools/test.py``).

    Returns:
        Runner: The runner.
    """
    cfg = load_config(config, work_dir, cfg_options, launcher)
    if amp:
        _enable_amp(cfg)
    if resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif resume is not None:
        if not osp.isfile(resume):
            raise FileNotFoundError(
                f'checkpoint {resume} given to --resume does not exist. Pass '
                'an existing .pth file, or --resume alone to resume from the '
                'latest checkpoint of the work dir.')
        cfg.resume = True
        cfg.load_from = resume
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'checkpoint {checkpoint} does not exist. Pass the .pth file '
                'written by tools/train.py (work_dirs/<config>/iter_N.pth).')
        cfg.load_from = checkpoint
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)
