"""Checkpoints load without running code; torch's default stays safe."""
import pickle

import pytest
import torch

from metagan_mm.checkpoint import (TRUST_ENV, UnreadableCheckpointError,
                                   UnsafeCheckpointError, load_checkpoint_file)


def test_crafted_pickle_is_refused_naming_the_type_and_the_opt_in(crafted):
    path, marker = crafted
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(path)
    message = str(info.value)
    assert 'posix.system' in message and path in message
    assert '--trust-checkpoint' in message and TRUST_ENV in message
    assert not marker.exists()


def test_trust_opt_in_really_unpickles(crafted, monkeypatch):
    path, marker = crafted
    load_checkpoint_file(path, trust=True)
    assert marker.exists()  # the opt-in is full unpickling, as documented
    marker.unlink()
    monkeypatch.setenv(TRUST_ENV, '1')
    load_checkpoint_file(path)
    assert marker.exists()
    marker.unlink()
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_file(path, trust=False)  # explicit beats the env
    assert not marker.exists()


def test_genuine_checkpoint_loads_without_opt_in(genuine):
    ckpt = load_checkpoint_file(genuine)
    assert ckpt['meta']['iter'] == 3 and int(ckpt['meta']['seed']) == 7
    assert ckpt['message_hub']['log_scalars']['loss'].current() == 2.5
    assert ckpt['message_hub']['runtime_info']['x'].tolist() == [0, 1, 2]
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))


def test_import_keeps_torch_default_safe_for_the_process(crafted, genuine):
    """``import metagan_mm`` weakens no other ``torch.load``."""
    path, marker = crafted
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    assert not marker.exists()
    load_checkpoint_file(genuine)  # the allowlist is scoped to that load
    with pytest.raises(pickle.UnpicklingError):
        torch.load(genuine)
    from mmengine.logging import HistoryBuffer
    assert HistoryBuffer not in torch.serialization.get_safe_globals()


def test_getattr_only_for_history_buffer_methods(tmp_path):
    """mmengine pickles ``getattr(HistoryBuffer, 'mean')``; nothing else."""
    import numpy as np

    class Method:

        def __reduce__(self):
            return (getattr, (np.ndarray, 'tofile'))

    path = str(tmp_path / 'getattr.pth')
    torch.save({'x': Method()}, path)
    with pytest.raises(UnsafeCheckpointError, match="'tofile'"):
        load_checkpoint_file(path)


def test_mmengine_loader_goes_through_the_safe_load(crafted, genuine):
    from mmengine.runner.checkpoint import CheckpointLoader
    path, marker = crafted
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert not marker.exists()
    assert CheckpointLoader.load_checkpoint(genuine)['meta']['iter'] == 3


@pytest.mark.parametrize(
    'cut', [0, 100, -200, None],
    ids=['empty', 'head', 'tail', 'not-a-checkpoint'])
def test_damaged_file_gets_a_clear_error(genuine, tmp_path, cut):
    data = open(genuine, 'rb').read()
    damaged = tmp_path / 'iter_4.pth'
    damaged.write_bytes(b'hello world' *
                        10 if cut is None else data[:cut] if cut else b'')
    with pytest.raises(UnreadableCheckpointError) as info:
        load_checkpoint_file(str(damaged))
    assert 'damaged or truncated' in str(info.value)
    assert str(damaged) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_checkpoint_file(str(tmp_path / 'no.pth'))


def test_old_format_pickle_is_refused_as_unsafe_not_damaged(
        crafted_old_format):
    path, marker = crafted_old_format
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(path)
    message = str(info.value)
    assert 'posix.system' in message and 'damaged' not in message
    assert not marker.exists()


def test_refusal_does_not_repeat_torchs_advice(crafted, crafted_old_format):
    for path, _ in (crafted, crafted_old_format):
        with pytest.raises(UnsafeCheckpointError) as info:
            load_checkpoint_file(path)
        assert 'will likely succeed' not in str(info.value)
        assert 'weights_only' not in str(info.value)


@pytest.mark.parametrize('value', ['no', 'off', 'false', '0', ''])
def test_trust_env_false_values_do_not_trust(crafted, monkeypatch, value):
    path, marker = crafted
    monkeypatch.setenv(TRUST_ENV, value)
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_file(path)
    assert not marker.exists()


@pytest.mark.parametrize('value', ['1', 'true', 'YES', 'on'])
def test_trust_env_explicit_true_values_trust(crafted, monkeypatch, value):
    path, marker = crafted
    monkeypatch.setenv(TRUST_ENV, value)
    load_checkpoint_file(path)
    assert marker.exists()


def test_trust_env_other_values_are_an_error(crafted, monkeypatch):
    path, marker = crafted
    monkeypatch.setenv(TRUST_ENV, 'maybe')
    with pytest.raises(ValueError, match="'maybe' is not understood"):
        load_checkpoint_file(path)
    assert not marker.exists()


def test_trust_file_trusts_that_file_alone(crafted, crafted_old_format):
    from metagan_mm.checkpoint.safe_load import trust_file, untrust_all
    (path, marker), (other, other_marker) = crafted, crafted_old_format
    trust_file(path)
    try:
        load_checkpoint_file(path)
        assert marker.exists()
        with pytest.raises(UnsafeCheckpointError):
            load_checkpoint_file(other)
        assert not other_marker.exists()
    finally:
        untrust_all()
    marker.unlink()
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_file(path)
    assert not marker.exists()
