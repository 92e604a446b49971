"""Reliability: a SIGKILLed run resumes to the same result, NaN losses stop the run, bad paths and files get clear
errors, and a dying rank stops the others."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from mmseg.registry import MODELS

from conftest import CWD_DISTILL_CFG, PYTHON, REPO, STUDENT_CFG
from test_tools import free_port, run

LOGITS = 'decode_head.conv_seg'


def write_light_config(path: Path, data_root: str, teacher_checkpoint: str, max_iters: int, extra: str = '') -> str:
    """PSPNet-R18 -> PSPNet-R18 (a saved teacher) with pixel KD and warmed-up, shuffled CGD: quick on a CPU, and
    with dropout in the student so that the torch random state matters for resuming."""
    path.write_text(f"""
_base_ = ['{CWD_DISTILL_CFG}']
model = dict(
    teacher=dict(cfg_path='{STUDENT_CFG}', checkpoint='{teacher_checkpoint}'),
    distill_losses=dict(
        loss_kd=dict(type='KLDivergence', tau=1.0, student='{LOGITS}', teacher='{LOGITS}'),
        loss_cgd=dict(type='ChannelGroupDivergence', tau=2.0, group_size=5, shuffle_seed=0, loss_weight=0.75,
                      student='{LOGITS}', teacher='{LOGITS}',
                      weight_schedule=dict(type='LinearWarmupDecay', warmup_iters=4))))
train_dataloader = dict(batch_size=2, dataset=dict(data_root='{data_root}'))
val_dataloader = dict(dataset=dict(data_root='{data_root}'))
test_dataloader = dict(dataset=dict(data_root='{data_root}'))
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end={max_iters}, by_epoch=False)]
train_cfg = dict(max_iters={max_iters}, val_interval=1000)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
randomness = dict(seed=0)
{extra}
""")
    return str(path)


def logged(work_dir: Path) -> dict:
    """{iteration: record} over every scalars.json of a work dir (a resumed run writes a second one)."""
    records = {}
    for log in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in log.read_text().splitlines():
            record = json.loads(line)
            if 'distill.loss_kd' in record:
                records[record['iter']] = record
    return records


def test_sigkill_then_resume_gives_the_uninterrupted_result(tmp_path, cityscapes_root, r18_checkpoint):
    config = write_light_config(tmp_path / 'distill.py', cityscapes_root, r18_checkpoint, max_iters=6)
    straight = tmp_path / 'straight'
    run(PYTHON, 'tools/train.py', config, '--work-dir', straight)

    killed = tmp_path / 'killed'
    process = subprocess.Popen([PYTHON, 'tools/train.py', config, '--work-dir', str(killed)], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, PYTHONUNBUFFERED='1'))
    deadline = time.time() + 600
    while not ((killed / 'last_checkpoint').is_file() and 'iter_4' in (killed / 'last_checkpoint').read_text()):
        assert process.poll() is None and time.time() < deadline, 'the run ended before it could be killed'
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / 'iter_6.pth').exists()
    output = run(PYTHON, 'tools/train.py', config, '--work-dir', killed, '--resume')
    assert 'resumed epoch: 0, iter: 4' in output

    expected = torch.load(straight / 'iter_6.pth', weights_only=True)
    resumed = torch.load(killed / 'iter_6.pth', weights_only=True)
    assert resumed['meta']['iter'] == expected['meta']['iter'] == 6
    for key, value in expected['state_dict'].items():
        torch.testing.assert_close(resumed['state_dict'][key], value, rtol=1e-5, atol=1e-6, msg=key)
    straight_log, resumed_log = logged(straight), logged(killed)
    for iteration in (5, 6):  # the iterations run after the resume: same losses, same scheduled CGD weight
        for key in ('decode.loss_ce', 'distill.loss_kd', 'distill.loss_cgd', 'lr'):
            assert resumed_log[iteration][key] == pytest.approx(straight_log[iteration][key], rel=1e-4), key
    assert straight_log[2]['distill.loss_cgd'] < straight_log[5]['distill.loss_cgd']  # warm-up, then full weight


def test_non_finite_loss_stops_the_run_naming_term_and_iteration(tmp_path, cityscapes_root, r18_checkpoint):
    config = write_light_config(tmp_path / 'distill.py', cityscapes_root, r18_checkpoint, max_iters=4,
                                extra="model['distill_losses']['loss_kd']['tau'] = 1e-45")  # logits / tau overflow: NaN
    result = subprocess.run([PYTHON, 'tools/train.py', config, '--work-dir', str(tmp_path / 'run')], cwd=REPO,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode != 0
    assert 'non-finite loss at iteration 1: distill.loss_kd=nan' in result.stderr
    assert 'Lower the learning rate' in result.stderr
    assert not list((tmp_path / 'run').glob('iter_*.pth'))


@pytest.mark.parametrize('problem', ['missing', 'empty'])
def test_dataset_path_problems_are_explained(tmp_path, r18_checkpoint, problem):
    root = tmp_path / 'cityscapes'
    if problem == 'empty':
        (root / 'leftImg8bit' / 'train').mkdir(parents=True)
    config = write_light_config(tmp_path / 'distill.py', str(root), r18_checkpoint, max_iters=2)
    result = subprocess.run([PYTHON, 'tools/train.py', config, '--work-dir', str(tmp_path / 'run')], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    message = 'does not exist' if problem == 'missing' else 'is empty'
    assert f"train_dataloader: image folder '{root}/leftImg8bit/train' {message}" in result.stderr
    assert '--cfg-options train_dataloader.dataset.data_root=PATH' in result.stderr


def test_unreadable_teacher_checkpoint_is_explained(tmp_path):
    broken = tmp_path / 'teacher.pth'
    broken.write_bytes(b'<html>404 Not Found</html>')
    cfg = dict(type='SegDistiller', student=dict(cfg_path=str(STUDENT_CFG)),
               teacher=dict(cfg_path=str(STUDENT_CFG), checkpoint=str(broken)),
               distill_losses=dict(loss_kd=dict(type='KLDivergence', student=LOGITS, teacher=LOGITS)))
    with pytest.raises(RuntimeError, match='could not be read as a torch checkpoint.*partial download'):
        MODELS.build(cfg)


def test_a_dying_rank_stops_the_other_within_a_bounded_time(tmp_path, cityscapes_root, r18_checkpoint):
    config = write_light_config(tmp_path / 'distill.py', cityscapes_root, r18_checkpoint, max_iters=500)
    work_dir = tmp_path / 'run'
    launcher = subprocess.Popen(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', str(work_dir)], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=dict(os.environ, PYTHON=PYTHON, PORT=free_port()))
    deadline = time.time() + 600
    while not logged(work_dir):
        assert launcher.poll() is None and time.time() < deadline, 'training did not start'
        time.sleep(0.2)
    matches = subprocess.run(['pgrep', '-f', f'train.py {config} --launcher pytorch'], capture_output=True,
                             text=True).stdout.split()
    ranks = [pid for pid in matches if b'torch.distributed.run' not in Path(f'/proc/{pid}/cmdline').read_bytes()]
    assert len(ranks) == 2, ranks
    os.kill(int(ranks[1]), signal.SIGKILL)
    killed_at = time.time()
    launcher.wait(timeout=120)
    assert launcher.returncode != 0
    assert time.time() - killed_at < 120
    assert subprocess.run(['pgrep', '-f', f'train.py {config}'], capture_output=True).returncode == 1, \
        'a rank is still running'
