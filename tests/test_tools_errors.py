"""Bad input to tools/train.py gives one clear message, not a traceback."""
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

CONFIG = osp.join(REPO_ROOT, 'configs', 'reptile',
                  'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')
OMNIGLOT_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'reptile',
    'reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py')


@pytest.fixture
def train_main():
    """Run tools/train.py as a user would, in a fresh process."""
    return osp.join(REPO_ROOT, 'tools', 'train.py')


def run_and_capture(main, monkeypatch, *argv):
    proc = subprocess.run([sys.executable, main, *argv],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT,
                          timeout=300,
                          env=dict(os.environ))
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    return proc.stderr


def test_missing_config(train_main, monkeypatch, tmp_path):
    err = run_and_capture(train_main, monkeypatch, str(tmp_path / 'nope.py'))
    assert 'nope.py does not exist' in err


def test_misspelt_top_level_key(train_main, monkeypatch, tmp_path):
    err = run_and_capture(train_main, monkeypatch, CONFIG, '--work-dir',
                          str(tmp_path), '--cfg-options',
                          'train_cfgs.max_iters=1')
    assert "config key 'train_cfgs'" in err
    assert "Did you mean 'train_cfg'?" in err


def test_unknown_inner_loop_key(train_main, monkeypatch, tmp_path):
    err = run_and_capture(train_main, monkeypatch, CONFIG, '--work-dir',
                          str(tmp_path), '--cfg-options',
                          'model.inner_loop.stepz=3')
    assert "model.inner_loop has no setting 'stepz'" in err
    assert "Did you mean 'steps'?" in err


def test_unknown_registered_type(train_main, monkeypatch, tmp_path):
    err = run_and_capture(train_main, monkeypatch, CONFIG, '--work-dir',
                          str(tmp_path), '--cfg-options',
                          'model.type=ReptileGANN')
    assert 'ReptileGANN is not in the' in err
    assert "custom_imports=dict(imports=['metagan_mm']" in err


def test_missing_data_root(train_main, monkeypatch, tmp_path):
    missing = str(tmp_path / 'no_omniglot')
    monkeypatch.setenv('METAGAN_OMNIGLOT', missing)
    err = run_and_capture(train_main, monkeypatch, OMNIGLOT_CONFIG,
                          '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                          'train_dataloader.num_workers=0',
                          'train_dataloader.persistent_workers=False')
    assert missing in err


def test_bad_inner_learning_rate(train_main, monkeypatch, tmp_path):
    err = run_and_capture(train_main, monkeypatch, CONFIG, '--work-dir',
                          str(tmp_path), '--cfg-options',
                          'model.inner_loop.g_lr=0')
    assert 'g_lr=0 is invalid' in err
