"""End to end through the real tools: train.py, test.py, export_student.py, dist_train.sh (2 CPU processes).

PSPNet-R101 → PSPNet-R18 (mmseg's architectures, demo configs at 64x128) on a generated Cityscapes-layout
dataset, with a teacher checkpoint the tests save.
"""
import json
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmseg.apis import init_model

from conftest import CWD_DISTILL_CFG, PYTHON, REPO, STUDENT_CFG

LOSS_KEYS = ('decode.loss_ce', 'aux.loss_ce', 'distill.loss_cwd', 'distill.loss_kd', 'distill.loss_cgd')


def write_config(path: Path, data_root: str, teacher_checkpoint: str, max_iters: int, batch_size: int = 2):
    """A test config on top of the repository's CWD demo config: data, teacher and a short schedule,
    plus pixel KD (with ignore mask) and scheduled, shuffled CGD, so every logit loss trains."""
    path.write_text(f"""
_base_ = ['{CWD_DISTILL_CFG}']
model = dict(
    teacher=dict(checkpoint='{teacher_checkpoint}'),
    distill_losses=dict(
        loss_kd=dict(type='KLDivergence', tau=1.0, ignore_index=255,
                     student='decode_head.conv_seg', teacher='decode_head.conv_seg'),
        loss_cgd=dict(type='ChannelGroupDivergence', tau=2.0, group_size=5, shuffle_seed=0,
                      loss_weight=0.75, student='decode_head.conv_seg', teacher='decode_head.conv_seg',
                      weight_schedule=dict(type='LinearWarmupDecay', warmup_iters=2))))
train_dataloader = dict(batch_size={batch_size}, dataset=dict(data_root='{data_root}'))
val_dataloader = dict(dataset=dict(data_root='{data_root}'))
test_dataloader = dict(dataset=dict(data_root='{data_root}'))
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end={max_iters}, by_epoch=False)]
train_cfg = dict(max_iters={max_iters}, val_interval={max_iters})
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={max_iters}))
randomness = dict(seed=0)
""")
    return str(path)


def run(*args, timeout=900, **env_overrides):
    env = dict(os.environ, PYTHON=PYTHON, PYTHONUNBUFFERED='1', **env_overrides)
    result = subprocess.run([str(a) for a in args], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    return output


def scalars(work_dir: Path):
    (log,) = work_dir.glob('*/vis_data/scalars.json')
    return [json.loads(line) for line in log.read_text().splitlines()]


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


@pytest.fixture(scope='module')
def trained(tmp_path_factory, cityscapes_root, r101_checkpoint):
    work = tmp_path_factory.mktemp('train')
    config = write_config(work / 'distill.py', cityscapes_root, r101_checkpoint, max_iters=4)
    output = run(PYTHON, 'tools/train.py', config, '--work-dir', work / 'run')
    return dict(config=config, work_dir=work / 'run', output=output)


def test_train_logs_every_loss_finite_and_saves_a_student_checkpoint(trained):
    records = [r for r in scalars(trained['work_dir']) if 'decode.loss_ce' in r]
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    for record in records:
        for key in LOSS_KEYS:
            assert key in record and torch.isfinite(torch.tensor(record[key])), (key, record)
    assert records[0]['distill.loss_cgd'] == 0.0  # warm-up: factor 0 at iteration 0
    assert records[-1]['distill.loss_cgd'] > 0
    assert 'teacher weights loaded from' in trained['output']
    checkpoint = torch.load(trained['work_dir'] / 'iter_4.pth', weights_only=True)
    keys = list(checkpoint['state_dict'])
    assert not [k for k in keys if k.startswith('teacher')]
    assert 'student.decode_head.conv_seg.weight' in keys
    assert 'distill_losses.loss_cgd.channel_permutation' in keys


def test_test_tool_prints_the_students_miou(trained):
    output = run(PYTHON, 'tools/test.py', trained['config'], trained['work_dir'] / 'iter_4.pth',
                 '--work-dir', trained['work_dir'] / 'test')
    assert re.search(r'mIoU: \d+\.\d+', output), output[-3000:]


def test_exported_student_loads_in_stock_mmseg(trained, tmp_path):
    exported = tmp_path / 'student.pth'
    run(PYTHON, 'tools/export_student.py', trained['config'], trained['work_dir'] / 'iter_4.pth', exported)
    model = init_model(str(STUDENT_CFG), str(exported), device='cpu')
    distilled = torch.load(trained['work_dir'] / 'iter_4.pth', weights_only=True)['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, distilled['student.' + key]), key


def test_auto_scale_lr_without_the_recipe_batch_names_the_fix(tmp_path):
    config = tmp_path / 'no_batch.py'
    config.write_text(f"_base_ = ['{STUDENT_CFG}']\n")
    result = subprocess.run([PYTHON, 'tools/train.py', str(config), '--auto-scale-lr'], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert 'add auto_scale_lr = dict(enable=False, base_batch_size=N)' in result.stderr, result.stderr[-3000:]


def test_resume_continues_from_the_checkpoint(trained, tmp_path):
    """mmengine's resume reads the full training checkpoint (message hub, numpy scalars) on torch >= 2.6."""
    output = run(PYTHON, 'tools/train.py', trained['config'], '--work-dir', trained['work_dir'],
                 '--resume', trained['work_dir'] / 'iter_4.pth',
                 '--cfg-options', 'train_cfg.max_iters=6', 'train_cfg.val_interval=100')
    assert 'resumed epoch: 0, iter: 4' in output
    assert 'Iter(train) [6/6]' in output


def test_dist_train_two_cpu_processes_with_the_learning_rate_scaled_to_the_batch(tmp_path, cityscapes_root,
                                                                                  r101_checkpoint):
    """2 processes x 2 images against a recipe tuned for 8 images: --auto-scale-lr halves the learning rate."""
    config = write_config(tmp_path / 'distill.py', cityscapes_root, r101_checkpoint, max_iters=2)
    output = run('bash', 'tools/dist_train.sh', config, 2, '--work-dir', tmp_path / 'run', '--auto-scale-lr',
                 '--cfg-options', 'auto_scale_lr.base_batch_size=8', PORT=free_port())
    assert 'Iter(train) [2/2]' in output
    assert "'backend': 'gloo'" in output
    assert 'Scaling the original LR by 0.5' in output
    records = [r for r in scalars(tmp_path / 'run') if 'distill.loss_cwd' in r]
    assert [r['iter'] for r in records] == [1, 2]
    recipe_lr = Config.fromfile(config).optim_wrapper.optimizer.lr
    assert records[0]['lr'] == pytest.approx(recipe_lr / 2)
    assert (tmp_path / 'run' / 'iter_2.pth').is_file()


def test_dist_test_two_cpu_processes(trained):
    output = run('bash', 'tools/dist_test.sh', trained['config'], trained['work_dir'] / 'iter_4.pth', 2,
                 '--work-dir', trained['work_dir'] / 'dist_test', PORT=free_port())
    assert re.search(r'mIoU: \d+\.\d+', output), output[-3000:]


def test_tensorboard_event_file_has_every_loss_lr_and_miou(trained):
    """The distillation configs log to TensorBoard: every loss term and the learning rate at each logged
    iteration, and the validation mIoU, the same values as scalars.json."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    first_run = min(trained['work_dir'].glob('*/vis_data')).parent  # later tests resume into the work dir
    (event_file,) = first_run.glob('vis_data/events.out.tfevents.*')
    events = EventAccumulator(str(event_file))
    events.Reload()
    tags = set(events.Tags()['scalars'])
    assert set(LOSS_KEYS) | {'loss', 'lr', 'mIoU'} <= tags, tags
    logged = [json.loads(line) for line in (first_run / 'vis_data' / 'scalars.json').read_text().splitlines()]
    for key in LOSS_KEYS + ('lr', 'mIoU'):
        expected = [(r['step'], r[key]) for r in logged if key in r]
        assert expected, key
        assert [(e.step, pytest.approx(e.value, rel=1e-5)) for e in events.Scalars(key)] == expected, key
