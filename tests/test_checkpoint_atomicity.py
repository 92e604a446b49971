"""Checkpoints are never lost: atomic writes stopped at every point, incomplete checkpoints explained, the checkpoint
hook's order (new file complete, then old ones deleted, then last_checkpoint), converters' output paths checked."""
import os
import socket
import subprocess
import sys
from collections import OrderedDict, deque
from pathlib import Path

import pytest
import torch
from mmengine.fileio import LocalBackend
from mmengine.logging import MessageHub

from conftest import REPO
from mmseg_kd.checkpoint.atomic_write import STOP_ENV, STOP_POINTS, STOPPED_EXIT_STATUS, write_atomically
from mmseg_kd.checkpoint.complete_checkpoint import (
    IncompleteCheckpointError,
    check_complete_checkpoint,
    is_complete_checkpoint,
)
from mmseg_kd.checkpoint.output_path import OutputPathError, check_output_path
from mmseg_kd.engine.hooks import AtomicCheckpointHook
from mmseg_kd.models.converters.command_line import run_converter

# Loads the writer's file alone (no torch, no mmseg): a quick process to stop in the middle of a write.
WRITER_SCRIPT = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location('atomic_write', sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.write_text_atomically(sys.argv[2], 'new content ' * 1000)
"""


@pytest.mark.parametrize('point', STOP_POINTS)
def test_a_write_stopped_at_any_point_leaves_the_old_file_or_the_new_one(tmp_path, point):
    target = tmp_path / 'iter_4.pth'
    target.write_text('old content')
    process = subprocess.Popen([sys.executable, '-c', WRITER_SCRIPT, str(REPO / 'mmseg_kd/checkpoint/atomic_write.py'),
                                str(target)], env=dict(os.environ, **{STOP_ENV: f'{point}@iter_4.pth'}))
    assert process.wait() == STOPPED_EXIT_STATUS
    expected = 'new content ' * 1000 if point == 'after_rename' else 'old content'
    assert target.read_text() == expected
    leftovers = [path.name for path in tmp_path.iterdir() if path.name != 'iter_4.pth']
    if point in ('during_write', 'before_rename'):  # the temporary file of the stopped process
        assert leftovers == [f'.iter_4.pth.partial-{socket.gethostname()}-{process.pid}']
    else:
        assert leftovers == []
    elsewhere = tmp_path / '.iter_2.pth.partial-another-host-1'  # maybe still written, on a shared file system
    elsewhere.write_text('another host writing')
    write_atomically(str(tmp_path / 'other.pth'), lambda temporary: Path(temporary).write_text('x'))
    assert sorted(path.name for path in tmp_path.iterdir()) == [elsewhere.name, 'iter_4.pth', 'other.pth']


def test_the_stop_applies_to_the_named_file_only(tmp_path):
    target = tmp_path / 'iter_2.pth'
    result = subprocess.run([sys.executable, '-c', WRITER_SCRIPT, str(REPO / 'mmseg_kd/checkpoint/atomic_write.py'),
                             str(target)], env=dict(os.environ, **{STOP_ENV: 'during_write@iter_4.pth'}))
    assert result.returncode == 0 and target.read_text() == 'new content ' * 1000


def test_a_failing_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / 'model.pth'
    target.write_bytes(b'old')

    def write_half_then_fail(temporary):
        Path(temporary).write_bytes(b'half')
        raise OSError(28, 'No space left on device')

    with pytest.raises(OSError, match='No space left'):
        write_atomically(str(target), write_half_then_fail)
    assert [path.name for path in tmp_path.iterdir()] == ['model.pth'] and target.read_bytes() == b'old'


@pytest.fixture(scope='module')
def saved_checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp('checkpoints')
    for step in (2, 4):
        torch.save({'state_dict': OrderedDict(weight=torch.full((64, 64), float(step)))}, folder / f'iter_{step}.pth')
        os.utime(folder / f'iter_{step}.pth', (step, step))
    return folder


@pytest.mark.parametrize('keep', [0.5, 0.9, 0.0, 'text'])
def test_an_incomplete_checkpoint_names_itself_and_the_previous_complete_one(saved_checkpoints, tmp_path, keep):
    folder = tmp_path / 'work_dir'
    folder.mkdir()
    for name in ('iter_2.pth', 'iter_4.pth'):
        (folder / name).write_bytes((saved_checkpoints / name).read_bytes())
    os.utime(folder / 'iter_2.pth', (2, 2))
    broken = folder / 'iter_6.pth'
    content = (saved_checkpoints / 'iter_4.pth').read_bytes()
    broken.write_bytes(b'<html>Not found</html>' if keep == 'text' else content[:int(len(content) * keep)])
    assert is_complete_checkpoint(str(folder / 'iter_4.pth')) and not is_complete_checkpoint(str(broken))
    with pytest.raises(IncompleteCheckpointError) as error:
        check_complete_checkpoint(str(broken), 'resume checkpoint')
    message = str(error.value)
    assert f"resume checkpoint '{broken}' is incomplete" in message
    assert f"The newest complete checkpoint of that folder is '{folder / 'iter_4.pth'}'" in message


def test_complete_and_legacy_checkpoints_pass_and_a_lone_broken_one_says_nothing_is_left(saved_checkpoints, tmp_path):
    check_complete_checkpoint(str(saved_checkpoints / 'iter_4.pth'), 'checkpoint')
    legacy = tmp_path / 'legacy.pth'
    torch.save({'weight': torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    check_complete_checkpoint(str(legacy), 'checkpoint')
    (tmp_path / 'legacy.pth').unlink()
    broken = tmp_path / 'only.pth'
    broken.write_bytes((saved_checkpoints / 'iter_4.pth').read_bytes()[:1000])
    with pytest.raises(IncompleteCheckpointError, match='holds no complete checkpoint to use instead'):
        check_complete_checkpoint(str(broken), 'checkpoint')


class FakeRunner:
    """What CheckpointHook uses of a runner; save_checkpoint writes a small checkpoint or fails like a full disk."""

    def __init__(self, work_dir: Path, fail_at_step=None):
        self.work_dir = str(work_dir)
        self.message_hub = MessageHub(f'atomicity-{id(self)}')
        self.fail_at_step = fail_at_step
        self.step = 0

    def save_checkpoint(self, out_dir, filename, file_client_args=None, **kwargs):
        Path(out_dir, filename).write_bytes(b'partial')
        if self.step == self.fail_at_step:
            raise OSError(28, 'No space left on device')
        torch.save({'meta': kwargs['meta'], 'keep': self.message_hub.get_info('keep_ckpt_ids')},
                   Path(out_dir, filename))


def make_hook(work_dir: Path, max_keep_ckpts: int) -> AtomicCheckpointHook:
    hook = AtomicCheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=max_keep_ckpts)
    hook.out_dir, hook.file_backend = str(work_dir), LocalBackend()
    hook.keep_ckpt_ids = deque([], max_keep_ckpts)
    return hook


@pytest.mark.parametrize('max_keep_ckpts', [1, 2])
def test_old_checkpoints_go_only_after_the_new_one_is_complete(tmp_path, max_keep_ckpts):
    runner = FakeRunner(tmp_path, fail_at_step=4)
    hook = make_hook(tmp_path, max_keep_ckpts)
    for step in (1, 2, 3):
        runner.step = step
        hook._save_checkpoint_with_step(runner, step, dict(iter=step))
    kept = [f'iter_{step}.pth' for step in (1, 2, 3)][-max_keep_ckpts:]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(kept + ['last_checkpoint'])
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_3.pth'  # relative to the work dir
    assert torch.load(tmp_path / 'iter_3.pth', weights_only=True)['keep'] == [1, 2, 3][-max_keep_ckpts:]
    runner.step = 4
    with pytest.raises(OSError, match='No space left'):  # the disk fills up during the next save
        hook._save_checkpoint_with_step(runner, 4, dict(iter=4))
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(kept + ['last_checkpoint'])
    assert (tmp_path / 'last_checkpoint').read_text() == 'iter_3.pth'
    assert torch.load(tmp_path / 'iter_3.pth', weights_only=True)['meta'] == dict(iter=3)


def test_last_checkpoint_is_relative_to_the_work_dir_when_out_dir_is_inside_it(tmp_path):
    out_dir = tmp_path / 'checkpoints'
    out_dir.mkdir()
    runner, hook = FakeRunner(tmp_path), make_hook(out_dir, 1)
    hook._save_checkpoint_with_step(runner, 5, dict(iter=5))
    assert (tmp_path / 'last_checkpoint').read_text() == os.path.join('checkpoints', 'iter_5.pth')


@pytest.mark.parametrize('spelling', ['same', 'relative', 'link'])
def test_converters_refuse_to_overwrite_their_input(tmp_path, spelling, capsys, monkeypatch):
    source = tmp_path / 'model.pth'
    source.write_bytes(b'weights')
    monkeypatch.chdir(tmp_path)
    out = {'same': str(source), 'relative': './model.pth', 'link': str(tmp_path / 'link.pth')}[spelling]
    if spelling == 'link':
        os.symlink(source, out)
    with pytest.raises(OutputPathError, match='is the input'):
        check_output_path(out, inputs=(str(source),))
    assert run_converter('cirkd2mmseg', None, 'test', [str(source), out]) == 1
    assert 'writing it would replace the file being converted' in capsys.readouterr().err
    assert source.read_bytes() == b'weights'


def test_converters_refuse_an_existing_folder(tmp_path, capsys):
    source = tmp_path / 'model.pth'
    source.write_bytes(b'weights')
    with pytest.raises(OutputPathError, match="is an existing folder: give the path of the file"):
        check_output_path(str(tmp_path), inputs=(str(source),))
    assert run_converter('cirkd2mmseg', None, 'test', [str(source), str(tmp_path)]) == 1
    assert f"output '{tmp_path}' is an existing folder" in capsys.readouterr().err
    check_output_path(str(tmp_path / 'converted.pth'), inputs=(str(source),))  # a new file is fine

