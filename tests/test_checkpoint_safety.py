"""Checkpoint safety: switches take real booleans only, a file that needs code says which global and how to opt
in, a directory is called a directory, a local file is checked against its SHA-256, misspelt keys are errors."""
import hashlib
import os

import pytest
import torch
from mmseg.registry import MODELS

from conftest import STUDENT_CFG
from mmseg_kd.checkpoint.safe_loading import load_checkpoint_file
from mmseg_kd.checkpoint.sha256 import ChecksumMismatchError
from mmseg_kd.distillers.model_config import resolve_model_config

LOGITS = 'decode_head.conv_seg'


def distiller_cfg(**teacher):
    return dict(type='SegDistiller', student=dict(cfg_path=str(STUDENT_CFG)),
                teacher=dict(cfg_path=str(STUDENT_CFG), **teacher),
                distill_losses=dict(loss_kd=dict(type='KLDivergence', student=LOGITS, teacher=LOGITS)))


@pytest.mark.parametrize('key, value', [('allow_unsafe_checkpoint', 'False'), ('allow_unsafe_checkpoint', 1),
                                        ('allow_unsafe_checkpoint', None), ('channels_last', 'True'),
                                        ('channels_last', 0)])
def test_switches_of_an_entry_take_real_booleans_only(key, value, r18_checkpoint):
    with pytest.raises(TypeError, match=rf'teacher\.{key} must be True or False, got {value!r} '
                                        rf'\({type(value).__name__}\)'):
        MODELS.build(distiller_cfg(checkpoint=r18_checkpoint, **{key: value}))


def test_student_switches_are_checked_too():
    with pytest.raises(TypeError, match=r"student\.channels_last must be True or False, got 'yes'"):
        resolve_model_config(dict(cfg_path=str(STUDENT_CFG), channels_last='yes'), 'student')


def test_load_checkpoint_file_takes_a_real_boolean(r18_checkpoint):
    with pytest.raises(TypeError, match="allow_unsafe must be True or False, got 'False'"):
        load_checkpoint_file(r18_checkpoint, allow_unsafe='False')


class RunsACommand:
    """Unpickling this calls os.system (posix.system on Linux): a checkpoint built to run code."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


class NotAllowListed:
    """A harmless class that torch's weights-only allow-list does not know."""


def test_checkpoint_that_runs_a_command_is_refused_saying_so(tmp_path):
    marker = tmp_path / 'the command ran'
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': {}, 'meta': RunsACommand(f"touch '{marker}'")}, path)
    with pytest.raises(RuntimeError) as error:
        load_checkpoint_file(str(path), what='teacher checkpoint')
    message = str(error.value)
    assert "would import and call 'posix.system'" in message
    assert 'would run arbitrary code' in message and "'posix', a module that torch never allows" in message
    assert 'allow_unsafe_checkpoint=True' in message and 'partial download' not in message
    assert not marker.exists()
    load_checkpoint_file(str(path), allow_unsafe=True)  # the opt-in loads it, and runs the command
    assert marker.exists()


def test_checkpoint_with_a_class_outside_the_allow_list_names_it(tmp_path):
    path = tmp_path / 'teacher.pth'
    torch.save({'state_dict': {}, 'meta': NotAllowListed()}, path)
    with pytest.raises(RuntimeError) as error:
        MODELS.build(distiller_cfg(checkpoint=str(path)))
    message = str(error.value)
    assert f"would import and call '{NotAllowListed.__module__}.NotAllowListed'" in message
    assert 'would run arbitrary code' in message and 'never allows' not in message
    assert 'allow_unsafe_checkpoint=True' in message and 'partial download' not in message


def test_teacher_checkpoint_that_is_a_directory_says_so(tmp_path, r18_checkpoint):
    (tmp_path / 'iter_80000.pth').write_bytes(open(r18_checkpoint, 'rb').read())
    with pytest.raises(IsADirectoryError, match=rf"teacher checkpoint '{tmp_path}' is a directory, not a checkpoint "
                                                rf"file.*such as '{tmp_path / 'iter_80000.pth'}'"):
        MODELS.build(distiller_cfg(checkpoint=str(tmp_path)))


def test_local_teacher_checkpoint_is_checked_against_its_hash(r18_checkpoint):
    actual = hashlib.sha256(open(r18_checkpoint, 'rb').read()).hexdigest()
    wrong = ('f' if actual[0] != 'f' else 'e') + actual[1:8]
    with pytest.raises(ChecksumMismatchError) as error:
        MODELS.build(distiller_cfg(checkpoint=r18_checkpoint, checkpoint_sha256=wrong))
    message = str(error.value)
    assert actual in message and wrong in message and r18_checkpoint in message
    built = MODELS.build(distiller_cfg(checkpoint=r18_checkpoint, checkpoint_sha256=actual[:8].upper()))
    saved = torch.load(r18_checkpoint, weights_only=True)['state_dict']
    assert torch.equal(built.teacher.decode_head.conv_seg.weight, saved['decode_head.conv_seg.weight'])


@pytest.mark.parametrize('teacher, error, message', [
    (dict(checkpoint='x.pth', checkpoint_sha='e1e1100f'), ValueError,
     "teacher has an unknown key 'checkpoint_sha'; did you mean 'checkpoint_sha256'"),
    (dict(checkpoint='x.pth', checkpoint_sha256='e1e1100'), ValueError,
     r"teacher\.checkpoint_sha256 must be the SHA-256 .* got 'e1e1100'"),
    (dict(checkpoint='x.pth', checkpoint_sha256='e1e1100g'), ValueError,
     r"teacher\.checkpoint_sha256 must be the SHA-256 .* got 'e1e1100g'"),
    (dict(checkpoint=['x.pth']), TypeError, r"teacher\.checkpoint must be a string or None, got \['x.pth'\]"),
])
def test_malformed_checkpoint_settings_are_config_errors(teacher, error, message):
    with pytest.raises(error, match=message):
        resolve_model_config(dict(cfg_path=str(STUDENT_CFG), **teacher), 'teacher')


def test_numpy_scalars_pickled_under_numpy_1_load_safely(tmp_path):
    """Released teacher files (e.g. the DeepLabV3+ lineage's ``best_pred``) and old training checkpoints name
    ``numpy.core.multiarray.scalar``, numpy 1's name of what numpy 2 calls ``numpy._core.multiarray.scalar``."""
    import zipfile

    import numpy as np
    path = tmp_path / 'numpy1.pth.tar'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'best_pred': np.float64(0.7785)}, path, pickle_protocol=2)
    with zipfile.ZipFile(path) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    (pickle_name,) = [name for name in entries if name.endswith('data.pkl')]
    assert b'numpy._core.multiarray\nscalar' in entries[pickle_name]  # protocol 2: a GLOBAL opcode in plain text
    entries[pickle_name] = entries[pickle_name].replace(b'numpy._core.multiarray\nscalar',
                                                        b'numpy.core.multiarray\nscalar')
    with zipfile.ZipFile(path, 'w') as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    loaded = load_checkpoint_file(str(path))
    assert loaded['best_pred'] == pytest.approx(0.7785) and torch.equal(loaded['state_dict']['w'], torch.ones(2))
