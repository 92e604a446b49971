"""One run per work dir, and --resume that sees what changed: the work-dir lock (live, dead, other host),
last_checkpoint resolved in the work dir (copied work dirs), resume of a finished run or with another optimizer
explained, config differences listed, the config's parameter schedule replayed; a run killed during a save resumes to
the uninterrupted result, and a resumed longer schedule follows the new learning-rate curve (tools/train.py)."""
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim.scheduler import LinearLR, PolyLR

from conftest import PYTHON, REPO, STUDENT_CFG
from mmseg_kd.checkpoint.atomic_write import STOP_ENV, STOPPED_EXIT_STATUS
from mmseg_kd.checkpoint.complete_checkpoint import IncompleteCheckpointError
from mmseg_kd.engine.hooks.resumed_schedule_hook import ResumedScheduleHook
from mmseg_kd.engine.resume_checks import check_resume, config_differences, latest_checkpoint
from mmseg_kd.engine.work_dir_lock import LOCK_NAME, WorkDirBusyError, WorkDirLock
from mmseg_kd.utils.user_input_error import UserInputError
from test_tools import run


def write_lock(work_dir: Path, pid: int, host: str) -> None:
    work_dir.mkdir(exist_ok=True)
    (work_dir / LOCK_NAME).write_text(json.dumps(dict(pid=pid, host=host, started='earlier')))


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, '-c', 'pass'])
    process.wait()
    return process.pid


@pytest.mark.parametrize('resume', [False, True])
def test_a_live_run_keeps_its_work_dir(tmp_path, resume):
    sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        write_lock(tmp_path, sleeper.pid, socket.gethostname())
        with pytest.raises(WorkDirBusyError) as error:
            with WorkDirLock(str(tmp_path), resume=resume):
                pass
    finally:
        sleeper.kill()
        sleeper.wait()
    message = str(error.value)
    assert f'PID {sleeper.pid} on host {socket.gethostname()}' in message
    assert ('that run is still going' in message) == resume
    assert json.loads((tmp_path / LOCK_NAME).read_text())['pid'] == sleeper.pid  # left alone


def test_a_lock_on_another_host_is_taken_over_only_by_the_same_requeued_slurm_job(tmp_path, monkeypatch):
    write_lock(tmp_path, dead_pid(), 'another-machine')
    with pytest.raises(WorkDirBusyError, match='if that process on another-machine no longer runs .* delete '):
        with WorkDirLock(str(tmp_path)):
            pass
    lock = json.loads((tmp_path / LOCK_NAME).read_text())
    (tmp_path / LOCK_NAME).write_text(json.dumps(dict(lock, slurm_job='4242')))
    monkeypatch.setenv('SLURM_JOB_ID', '4243')
    with pytest.raises(WorkDirBusyError):  # another job
        with WorkDirLock(str(tmp_path)):
            pass
    monkeypatch.setenv('SLURM_JOB_ID', '4242')  # the preempted job, requeued onto this node
    with WorkDirLock(str(tmp_path)):
        assert json.loads((tmp_path / LOCK_NAME).read_text())['slurm_job'] == '4242'


@pytest.mark.parametrize('stale', ['dead process', 'unreadable'])
def test_a_stale_lock_is_taken_over_and_the_lock_is_released_on_any_exit(tmp_path, stale):
    if stale == 'dead process':
        write_lock(tmp_path, dead_pid(), socket.gethostname())
    else:
        (tmp_path / LOCK_NAME).write_text('{"pid": ')
    with pytest.raises(KeyboardInterrupt):
        with WorkDirLock(str(tmp_path)):
            assert json.loads((tmp_path / LOCK_NAME).read_text())['pid'] == os.getpid()
            raise KeyboardInterrupt
    assert not (tmp_path / LOCK_NAME).exists()
    with WorkDirLock(str(tmp_path / 'new_work_dir')):
        assert (tmp_path / 'new_work_dir' / LOCK_NAME).is_file()
    assert not (tmp_path / 'new_work_dir' / LOCK_NAME).exists()


def test_last_checkpoint_is_resolved_in_the_work_dir(tmp_path):
    original, copy, elsewhere = tmp_path / 'original', tmp_path / 'copy', tmp_path / 'out_dir'
    for folder in (original, copy, elsewhere):
        folder.mkdir()
        (folder / 'iter_4.pth').write_bytes(b'x')
    assert latest_checkpoint(str(copy)) is None  # nothing to resume yet
    (copy / 'last_checkpoint').write_text('iter_4.pth')
    assert latest_checkpoint(str(copy)) == str(copy / 'iter_4.pth')
    (copy / 'last_checkpoint').write_text(str(original / 'iter_4.pth'))  # mmengine's absolute path, then copied
    assert latest_checkpoint(str(copy)) == str(copy / 'iter_4.pth')
    (copy / 'last_checkpoint').write_text(str(elsewhere / 'iter_4.pth'))
    os.remove(copy / 'iter_4.pth')  # checkpoints kept in another out_dir
    assert latest_checkpoint(str(copy)) == str(elsewhere / 'iter_4.pth')
    torch.save({'meta': {}}, copy / 'iter_2.pth')
    (copy / 'last_checkpoint').write_text('iter_6.pth')
    with pytest.raises(UserInputError, match=r"names the checkpoint 'iter_6.pth', which does not exist .* resume "
                                             rf"with --resume {copy / 'iter_2.pth'}"):
        latest_checkpoint(str(copy))


def saved_run(tmp_path: Path, iteration: int, **changes) -> str:
    cfg = dict(optim_wrapper=dict(optimizer=dict(type='AdamW', lr=2e-3)), train_cfg=dict(max_iters=4),
               param_scheduler=[dict(type='PolyLR', end=4)], work_dir='a')
    path = tmp_path / f'iter_{iteration}.pth'
    torch.save({'meta': dict(iter=iteration, cfg=Config(cfg).pretty_text)}, path)
    cfg.update(changes)
    return str(path), Config(cfg)


@pytest.mark.parametrize('max_iters', [4, 3])
def test_resuming_a_finished_run_says_how_to_train_longer(tmp_path, max_iters):
    path, cfg = saved_run(tmp_path, 4, train_cfg=dict(max_iters=max_iters))
    with pytest.raises(UserInputError, match=rf'has finished: it trained 4 iterations .*max_iters={max_iters}\. To '
                                             rf'train it longer.* train_cfg\.max_iters={2 * max_iters}\)'):
        check_resume(cfg, path)


@pytest.mark.parametrize('optimizer', [dict(type='SGD', lr=2e-3), dict(type='Adam', lr=2e-3)])
def test_a_changed_optimizer_points_to_load_from(tmp_path, optimizer):
    path, cfg = saved_run(tmp_path, 2, optim_wrapper=dict(optimizer=optimizer))
    with pytest.raises(UserInputError, match=rf"from AdamW .* to {optimizer['type']}: .* --cfg-options "
                                             rf'load_from={path} \(without --resume\)'):
        check_resume(cfg, path)


def test_config_differences_are_listed(tmp_path):
    path, cfg = saved_run(tmp_path, 2, train_cfg=dict(max_iters=8), work_dir='b', model=dict(type='X'))
    assert check_resume(cfg, path) == ["model.type: '<absent>' -> 'X'", 'train_cfg.max_iters: 4 -> 8']
    assert config_differences(dict(a=dict(b=1, c=[1, 2])), dict(a=dict(b=1, c=[1, 3]), resume=True)) == [
        'a.c: [1, 2] -> [1, 3]']


@pytest.mark.parametrize('iterations', [0, 3, 7])
def test_replayed_schedulers_reach_the_value_of_an_uninterrupted_run(iterations):
    """Warm-up then poly decay, replayed from a state that followed another schedule."""

    def schedulers(end):
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01, momentum=0.9)
        return optimizer, [LinearLR(optimizer, start_factor=0.1, begin=0, end=3, by_epoch=False),
                           PolyLR(optimizer, eta_min=1e-4, power=0.9, begin=3, end=end, by_epoch=False)]

    straight_optimizer, straight = schedulers(end=12)
    for _ in range(iterations):
        for scheduler in straight:
            scheduler.step()
    replayed_optimizer, replayed = schedulers(end=12)
    for group in replayed_optimizer.param_groups:
        group['lr'] = 0.123  # where the old schedule had taken it
    ResumedScheduleHook._replay(replayed, iterations, 0)
    assert replayed_optimizer.param_groups[0]['lr'] == straight_optimizer.param_groups[0]['lr']
    if iterations >= 3:  # by hand: the poly curve from 0.01 at iteration 3 to 1e-4 at 11
        assert straight_optimizer.param_groups[0]['lr'] == pytest.approx(
            1e-4 + (0.01 - 1e-4) * (1 - (iterations - 3) / 8) ** 0.9)
    assert [s.last_step for s in replayed] == [s.last_step for s in straight]


# Integration: the demo student at 64x128, 4 iterations, a checkpoint every 2 and only the last one kept (as the shipped
# configs keep few), so that a lost save would lose everything.
def write_plain_config(path: Path, data_root: str, max_iters: int) -> str:
    path.write_text(f"""
_base_ = ['{STUDENT_CFG}']
train_dataloader = dict(batch_size=2, dataset=dict(data_root='{data_root}'))
val_dataloader = dict(dataset=dict(data_root='{data_root}'))
test_dataloader = dict(dataset=dict(data_root='{data_root}'))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end={max_iters}, by_epoch=False)]
train_cfg = dict(max_iters={max_iters}, val_interval=1000)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2, max_keep_ckpts=1))
randomness = dict(seed=0)
""")
    return str(path)


def logged_lr(work_dir: Path) -> dict:
    records = {}
    for log in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in log.read_text().splitlines():
            record = json.loads(line)
            if 'lr' in record:
                records[record['iter']] = record['lr']
    return records


@pytest.fixture(scope='module')
def straight_run(tmp_path_factory, cityscapes_root):
    folder = tmp_path_factory.mktemp('straight')
    config = write_plain_config(folder / 'plain.py', cityscapes_root, max_iters=4)
    run(PYTHON, 'tools/train.py', config, '--work-dir', folder / 'work_dir')
    return config, folder / 'work_dir'


def test_a_straight_run_keeps_one_complete_checkpoint_a_relative_pointer_and_no_lock(straight_run):
    _, work_dir = straight_run
    assert sorted(path.name for path in work_dir.iterdir() if not path.is_dir()) == [
        'iter_4.pth', 'last_checkpoint', 'plain.py']
    assert (work_dir / 'last_checkpoint').read_text() == 'iter_4.pth'


def test_a_run_killed_while_saving_resumes_to_the_uninterrupted_result(straight_run, tmp_path):
    """Stopped halfway through writing iter_4.pth (mmengine's own hook had deleted iter_2.pth by then)."""
    config, straight = straight_run
    work_dir = tmp_path / 'killed'
    stop = {STOP_ENV: 'during_write@iter_4.pth'}
    result = subprocess.run([PYTHON, 'tools/train.py', config, '--work-dir', str(work_dir)], cwd=REPO,
                            capture_output=True, text=True, env=dict(os.environ, **stop))
    assert result.returncode == STOPPED_EXIT_STATUS, result.stderr[-3000:]
    assert (work_dir / 'iter_2.pth').is_file() and not (work_dir / 'iter_4.pth').exists()
    assert (work_dir / 'last_checkpoint').read_text() == 'iter_2.pth'
    output = run(PYTHON, 'tools/train.py', config, '--work-dir', work_dir, '--resume')
    assert 'resumed epoch: 0, iter: 2' in output and 'the config differs' not in output
    expected = torch.load(straight / 'iter_4.pth', weights_only=True)['state_dict']
    resumed = torch.load(work_dir / 'iter_4.pth', weights_only=True)['state_dict']
    for key, value in expected.items():
        torch.testing.assert_close(resumed[key], value, rtol=1e-5, atol=1e-6, msg=key)
    assert sorted(path.name for path in work_dir.iterdir() if not path.is_dir()) == [
        'iter_4.pth', 'last_checkpoint', 'plain.py']  # iter_2 deleted after iter_4 was complete, no partial file


def test_resume_and_test_refuse_an_incomplete_checkpoint(straight_run, tmp_path):
    config, straight = straight_run
    work_dir = tmp_path / 'work_dir'
    work_dir.mkdir()
    shutil.copy(straight / 'iter_4.pth', work_dir / 'iter_2.pth')
    content = (straight / 'iter_4.pth').read_bytes()
    (work_dir / 'iter_4.pth').write_bytes(content[:len(content) // 3])
    (work_dir / 'last_checkpoint').write_text('iter_4.pth')
    result = subprocess.run([PYTHON, 'tools/train.py', config, '--work-dir', str(work_dir), '--resume'], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert f"resume checkpoint '{work_dir / 'iter_4.pth'}' is incomplete" in result.stderr
    assert f"The newest complete checkpoint of that folder is '{work_dir / 'iter_2.pth'}'" in result.stderr
    assert not (work_dir / LOCK_NAME).exists()  # released after the error
    spec = importlib.util.spec_from_file_location('train_tool', REPO / 'tools/train.py')
    train_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_tool)  # the step of tools/train.py that load_from goes through too
    with pytest.raises(IncompleteCheckpointError, match=f"load_from checkpoint '{work_dir / 'iter_4.pth'}' is "
                                                        'incomplete .* is .*iter_2.pth'):
        train_tool.check_loaded_checkpoint(Config(dict(load_from=str(work_dir / 'iter_4.pth'), resume=False)))
    result = subprocess.run([PYTHON, 'tools/test.py', config, str(work_dir / 'iter_4.pth')], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 1 and f"checkpoint '{work_dir / 'iter_4.pth'}' is incomplete" in result.stderr


def test_a_second_run_into_a_busy_work_dir_is_refused(straight_run, tmp_path):
    config, _ = straight_run
    write_lock(tmp_path, os.getpid(), socket.gethostname())  # this test's process: alive
    result = subprocess.run([PYTHON, 'tools/train.py', config, '--work-dir', str(tmp_path)], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert f'is in use by another training run: PID {os.getpid()} on host {socket.gethostname()}' in result.stderr
    assert not list(tmp_path.glob('*/vis_data'))  # nothing of a run started


def test_resuming_a_copied_finished_run_with_a_longer_schedule_follows_the_new_curve(straight_run, tmp_path):
    config, straight = straight_run
    copied = tmp_path / 'copied'
    shutil.copytree(straight, copied)
    result = subprocess.run([PYTHON, 'tools/train.py', config, '--work-dir', str(copied), '--resume'], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 1 and 'has finished: it trained 4 iterations' in result.stderr
    output = run(PYTHON, 'tools/train.py', config, '--work-dir', copied, '--resume', '--cfg-options',
                 'train_cfg.max_iters=8', 'param_scheduler.0.end=8')
    assert f'Load checkpoint from {copied / "iter_4.pth"}' in output  # its own file, not the original's
    assert 'train_cfg.max_iters: 4 -> 8' in output and '(PolyLR).end: 4 -> 8' in output
    lr = logged_lr(copied)
    for iteration in range(1, 9):  # logged at iteration i (1-based): the rate of step i - 1 of PolyLR(end=4 / 8)
        last = 3 if iteration <= 4 else 7
        expected = 1e-4 + (2e-3 - 1e-4) * (1 - (iteration - 1) / last) ** 0.9
        assert lr[iteration] == pytest.approx(expected, rel=1e-5), iteration
