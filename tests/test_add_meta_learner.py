"""A new meta-learner is one file plus a config: the how-to's toy
algorithm, copied from docs/howto/add_meta_learner.md, trains through
tools/train.py."""
import os
import os.path as osp
import re
import sys

import pytest
import torch
from training_helpers import CONFIG, REPO_ROOT, TINY, _run, weights

HOWTO = osp.join(REPO_ROOT, 'docs', 'howto', 'add_meta_learner.md')


def howto_blocks():
    """The python code blocks of the how-to, in order."""
    with open(HOWTO) as f:
        return re.findall(r'```python\n(.*?)```', f.read(), re.S)


@pytest.mark.slow
def test_toy_meta_learner_from_the_howto_trains_by_its_rule(tmp_path):
    algorithm, config = howto_blocks()
    (tmp_path / 'toy_shrink.py').write_text(algorithm)
    base = f'_base_ = [{CONFIG!r}]'
    config = re.sub(r'^_base_ = .*$', base, config, count=1, flags=re.M)
    (tmp_path / 'toy_config.py').write_text(config)
    env = {
        'PYTHONPATH':
        os.pathsep.join(
            [str(tmp_path),
             os.environ.get('PYTHONPATH', REPO_ROOT)])
    }
    proc = _run([
        sys.executable, 'tools/train.py',
        str(tmp_path / 'toy_config.py'), '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', *TINY,
        'train_cfg.max_iters=2', 'default_hooks.checkpoint.interval=1',
        'train_dataloader.batch_size=2'
    ],
                env=env)
    log = proc.stdout + proc.stderr
    assert 'loss_inner_d_loss_first' in log  # the toy's task ran
    first = weights(tmp_path / 'work' / 'iter_1.pth')[1]
    second = weights(tmp_path / 'work' / 'iter_2.pth')[1]
    nets = [k for k in first if k.startswith(('generator.', 'discriminator.'))]
    assert nets and any(k.startswith('generator.') for k in nets)
    for key in nets:  # one SGD step (lr 1) of rate 0.5 * theta: halved
        if first[key].is_floating_point():
            torch.testing.assert_close(
                second[key], 0.5 * first[key], rtol=1e-6, atol=1e-7)
    assert max(float(first[k].abs().max()) for k in nets) > 1e-3
