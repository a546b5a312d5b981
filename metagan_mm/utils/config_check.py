"""Check configs for keys that nothing reads."""
import difflib
import inspect
from typing import Iterable, List

from mmengine.config import Config
from mmengine.runner import Runner

#: Top-level keys read by the tools, mmengine or mmagic besides the
#: arguments of ``Runner.__init__``.
EXTRA_TOP_LEVEL_KEYS = frozenset({
    'custom_imports',
    'runner_type',
    'model_wrapper_cfg',
    'find_unused_parameters',
    'sync_bn',
    'auto_scale_lr',
    'vis_backends',
    'data_root',
    'dataset_type',
    'train_pipeline',
    'val_pipeline',
    'test_pipeline',
    'pipeline',
    'save_dir',
    'work_dir',
    'launcher',
    'resume',
    'load_from',
})


def runner_keys() -> List[str]:
    """Return the keyword arguments of :class:`mmengine.runner.Runner`."""
    return [
        name for name in inspect.signature(Runner.__init__).parameters
        if name != 'self'
    ]


def check_top_level_keys(cfg: Config,
                         allowed_extra: Iterable[str] = ()) -> None:
    """Raise ``KeyError`` for a top-level config key that nothing reads.

    Configs commonly hold helper variables (``train_pipeline``,
    ``glyph_split``...) that the runner never reads, so only keys that look
    like a misspelt known key (a close match, e.g. ``train_cfgs`` or
    ``optim_wraper``) are rejected.

    Args:
        cfg (Config): The config to check.
        allowed_extra (Iterable[str]): More keys to accept.

    Raises:
        KeyError: Naming the key, the closest known key and the fix.
    """
    known = set(runner_keys()) | EXTRA_TOP_LEVEL_KEYS | set(allowed_extra)
    for key in cfg.keys():
        if key in known or key.startswith('_'):
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.8)
        if close:
            raise KeyError(
                f"config key '{key}' is not used by the runner or the tools. "
                f"Did you mean '{close[0]}'? Fix the key in the config (or in "
                '--cfg-options).')
