"""Our registered names resolve from configs with ``custom_imports``."""
import json
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

SCRIPT = textwrap.dedent('''
    import json, sys
    from mmengine.config import Config
    from mmengine.registry import (HOOKS, LOOPS, MODEL_WRAPPERS, MODELS,
                                   DATASETS, DATA_SAMPLERS, FUNCTIONS,
                                   init_default_scope)
    assert 'metagan_mm' not in sys.modules
    cfg = Config.fromfile(sys.argv[1])   # imports custom_imports
    init_default_scope(cfg.default_scope)
    out = {}
    out['imported'] = 'metagan_mm' in sys.modules
    gen = MODELS.build(cfg.gen)
    out['gen'] = type(gen).__name__
    out['gen_mmagic'] = type(MODELS.build(cfg.gen_mmagic)).__name__
    # what Runner.wrap_model and build_dataloader do: plain get from root
    out['wrapper'] = MODEL_WRAPPERS.get('MetaDataParallel').__name__
    out['collate'] = FUNCTIONS.get('episodic_collate').__name__
    # what Registry.build does: switch to the default scope, then get
    def scoped(registry, name):
        with registry.switch_scope_and_registry(None) as reg:
            return reg.get(name).__name__
    out['loop'] = scoped(LOOPS, 'MetaIterBasedTrainLoop')
    out['hook'] = type(HOOKS.build(cfg.hook)).__name__
    out['model'] = scoped(MODELS, 'ReptileGAN')
    out['sampler'] = scoped(DATA_SAMPLERS, 'EpisodicSampler')
    out['dataset'] = scoped(DATASETS, 'EpisodicDataset')
    print('RESULT' + json.dumps(out))
''')

CONFIG = textwrap.dedent('''
    default_scope = 'mmagic'
    custom_imports = dict(imports=['metagan_mm'], allow_failed_imports=False)
    gen = dict(type='FIGRDCGANGenerator', noise_size=16, out_scale=32,
               out_channels=1)
    gen_mmagic = dict(type='DCGANGenerator', output_scale=32, out_channels=1,
                      noise_size=16)
    hook = dict(type='WeightsConsistencyHook', interval=5)
''')


@pytest.mark.slow  # a fresh process
def test_names_resolve_through_custom_imports(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG)
    script = tmp_path / 'check.py'
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), str(config)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith('RESULT')]
    result = json.loads(line[0][len('RESULT'):])
    assert result == {
        'imported': True,
        'gen': 'FIGRDCGANGenerator',
        'gen_mmagic': 'DCGANGenerator',
        'wrapper': 'MetaDataParallel',
        'loop': 'MetaIterBasedTrainLoop',
        'hook': 'WeightsConsistencyHook',
        'model': 'ReptileGAN',
        'sampler': 'EpisodicSampler',
        'dataset': 'EpisodicDataset',
        'collate': 'episodic_collate',
    }


def test_registry_module_reexports_mmagic_registries():
    import mmagic.registry as mmagic_registry
    import mmengine.registry as root

    from metagan_mm import registry
    assert registry.MODELS is mmagic_registry.MODELS
    assert registry.LOOPS is mmagic_registry.LOOPS
    assert registry.MODEL_WRAPPERS is root.MODEL_WRAPPERS
    assert registry.FUNCTIONS is root.FUNCTIONS
    assert registry.MODELS.get('ReptileGAN').__module__.startswith(
        'metagan_mm.')
    assert osp.isfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'default_runtime.py'))
