"""Checkpoint files made for the tests: a crafted pickle and a genuine one."""
import os

import numpy as np
import pytest
import torch


class Payload:
    """Unpickling this runs a shell command (what a malicious file does)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command, ))


@pytest.fixture
def crafted(tmp_path):
    """``(path, marker)``: a .pth whose unpickling would create ``marker``.

    It looks like a training checkpoint (meta, state_dict) but its weights
    are empty and it carries the payload.
    """
    marker = tmp_path / 'payload_ran'
    path = tmp_path / 'iter_600.pth'
    torch.save(
        {
            'meta': {
                'iter': 600
            },
            'state_dict': {},
            'payload': Payload(f'touch {marker}')
        }, path)
    return str(path), marker


@pytest.fixture
def genuine(tmp_path):
    """A checkpoint shaped like mmengine's: HistoryBuffer, numpy values."""
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.5)
    buffer.update(2.5)
    path = tmp_path / 'genuine.pth'
    torch.save(
        {
            'meta': {
                'iter': 3,
                'seed': np.int64(7),
                'lr': np.float32(.5)
            },
            'message_hub': {
                'log_scalars': {
                    'loss': buffer
                },
                'runtime_info': {
                    'x': np.arange(3)
                }
            },
            'state_dict': {
                'w': torch.ones(2)
            }
        }, path)
    return str(path)


@pytest.fixture
def crafted_old_format(tmp_path):
    """``(path, marker)``: the crafted checkpoint in torch's old (non-zip)
    format, whose globals cannot be listed without unpickling."""
    marker = tmp_path / 'old_payload_ran'
    path = tmp_path / 'iter_700.pth'
    torch.save({
        'meta': {
            'iter': 700
        },
        'payload': Payload(f'touch {marker}')
    },
               path,
               _use_new_zipfile_serialization=False)
    return str(path), marker
