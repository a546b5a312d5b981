"""Bad input to tools/train.py gives one clear message, not a traceback."""
import os.path as osp
import re
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
def train_main(tool):
    """tools/train.py's main, run as a user runs it, in this process."""
    return tool('train').main


def run_and_capture(main, capsys, *argv):
    """Run ``main(argv)``: it must exit with 1 and a message, no
    traceback; returns what it wrote to stderr."""
    with pytest.raises(SystemExit) as stop:
        main(list(argv))
    assert stop.value.code == 1
    err = capsys.readouterr().err
    # a logger made by an earlier run in this process may still write to
    # that test's closed capture: Python's logging reports it with a
    # traceback of its own, which is not the tool's output
    err = re.sub(
        r'--- Logging error ---\n.*?\nArguments: [^\n]*\n',
        '',
        err,
        flags=re.S)
    assert 'Traceback' not in err
    return err


def test_missing_config(train_main, capsys, tmp_path):
    err = run_and_capture(train_main, capsys, str(tmp_path / 'nope.py'))
    assert 'nope.py does not exist' in err


def test_misspelt_top_level_key(train_main, capsys, tmp_path):
    err = run_and_capture(train_main, capsys, CONFIG, '--work-dir',
                          str(tmp_path), '--cfg-options',
                          'train_cfgs.max_iters=1')
    assert "config key 'train_cfgs'" in err
    assert "Did you mean 'train_cfg'?" in err


def test_unknown_inner_loop_key(train_main, capsys, tmp_path):
    err = run_and_capture(train_main, capsys, CONFIG, '--work-dir',
                          str(tmp_path), '--cfg-options',
                          'model.inner_loop.stepz=3')
    assert "model.inner_loop has no setting 'stepz'" in err
    assert "Did you mean 'steps'?" in err


def test_unknown_registered_type(train_main, capsys, tmp_path):
    err = run_and_capture(train_main, capsys, CONFIG, '--work-dir',
                          str(tmp_path), '--cfg-options',
                          'model.type=ReptileGANN')
    assert 'ReptileGANN is not in the' in err
    assert "custom_imports=dict(imports=['metagan_mm']" in err


@pytest.mark.slow  # a fresh process
def test_missing_data_root(monkeypatch, tmp_path):
    # a fresh process: in this one, loggers of earlier runs write to the
    # closed output captures of earlier tests
    missing = str(tmp_path / 'no_omniglot')
    monkeypatch.setenv('METAGAN_OMNIGLOT', missing)
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools',
                 'train.py'), OMNIGLOT_CONFIG, '--work-dir',
        str(tmp_path / 'w'), '--cfg-options', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False'
    ],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT,
                          timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    assert missing in proc.stderr


def test_bad_inner_learning_rate(train_main, capsys, tmp_path):
    err = run_and_capture(train_main, capsys, CONFIG, '--work-dir',
                          str(tmp_path), '--cfg-options',
                          'model.inner_loop.g_lr=0')
    assert 'g_lr=0 is invalid' in err
