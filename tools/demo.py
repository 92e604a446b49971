"""``make demo``: distillation on generated street scenes, on the CPU, in a few minutes.

1. writes procedural street scenes in the Cityscapes layout to ``data/demo_cityscapes`` (once);
2. trains the teacher, PSPNet-R101, with ``tools/train.py`` (once; cached in ``work_dirs/demo``);
3. trains the student, PSPNet-R18, alone and with distillation, on the same budget and seed;
4. evaluates all three with ``tools/test.py``, prints one table (mIoU and time), and draws a picture comparing
   their predictions on validation images (``work_dirs/demo/comparison.png``; the distilled student is first
   exported to a plain mmseg checkpoint with ``tools/export_student.py``).

Everything runs through the same tools a user runs; logs and checkpoints land in ``work_dirs/demo``.
"""
import argparse
import glob
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout  # noqa: E402

PICTURE_IMAGES = 4  # validation images shown in the comparison picture

DATA_ROOT = 'data/demo_cityscapes'
WORK = 'work_dirs/demo'
TEACHER_CFG = 'configs/demo/pspnet_r101-d8_demo-cityscapes-64x128.py'
STUDENT_CFG = 'configs/demo/pspnet_r18-d8_demo-cityscapes-64x128.py'
DISTILL_CFG = 'distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py'
TEACHER_CKPT = osp.join(WORK, 'teacher_pspnet_r101.pth')


def schedule_options(iters: int) -> list:
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
            f'default_hooks.checkpoint.interval={iters}', f'param_scheduler.0.end={iters}']


def run_tool(*args) -> str:
    """Run a tool from the repository root, echo its progress lines, return its output."""
    command = [sys.executable, *map(str, args)]
    print('$', ' '.join(command[1:]), flush=True)
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=dict(os.environ, PYTHONUNBUFFERED='1'))
    lines = []
    for line in process.stdout:
        lines.append(line)
        if re.search(r'Iter\(train\)|mIoU:|Error', line):
            print('   ', line.rstrip()[-150:], flush=True)
    if process.wait() != 0:
        sys.exit(''.join(lines[-40:]) + f'\n{command[1]} failed')
    return ''.join(lines)


def train(config: str, name: str, iters: int, *options) -> float:
    """Train ``config`` for ``iters`` iterations into work_dirs/demo/NAME; returns the wall time in seconds."""
    start = time.time()
    run_tool('tools/train.py', config, '--work-dir', osp.join(WORK, name),
             '--cfg-options', *schedule_options(iters), *options)
    return time.time() - start


def evaluate(config: str, checkpoint: str, name: str) -> float:
    output = run_tool('tools/test.py', config, checkpoint, '--work-dir', osp.join(WORK, name + '_test'))
    found = re.findall(r'mIoU: (\d+\.\d+)', output)
    if not found:
        sys.exit(f'no mIoU in the output of tools/test.py {config}')
    return float(found[-1])


def draw_comparison(checkpoints: dict, out_file: str) -> None:
    """Predictions of teacher, student alone and distilled student on validation images, side by side."""
    import numpy as np
    from mmengine.registry import init_default_scope
    from mmseg.apis import inference_model, init_model
    from PIL import Image

    from mmseg_kd.analysis.prediction_comparison import draw_prediction_comparison

    init_default_scope('mmseg')
    images = sorted(glob.glob(osp.join(DATA_ROOT, 'leftImg8bit', 'val', '*', '*.png')))[:PICTURE_IMAGES]
    labels = [p.replace('leftImg8bit', 'gtFine', 1).replace('_leftImg8bit.png', '_gtFine_labelTrainIds.png')
              for p in images]
    predictions = {}
    for title, (config, checkpoint) in checkpoints.items():
        model = init_model(config, checkpoint, device='cpu')
        predictions[title] = [inference_model(model, path).pred_sem_seg.data[0].numpy() for path in images]
    meta = model.dataset_meta
    draw_prediction_comparison([np.asarray(Image.open(p).convert('RGB')) for p in images],
                               [np.asarray(Image.open(p)) for p in labels], predictions, meta['classes'],
                               meta['palette'], out_file)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--teacher-iters', type=int, default=200)
    parser.add_argument('--student-iters', type=int, default=100)
    parser.add_argument('--retrain-teacher', action='store_true', help='train the teacher again')
    args = parser.parse_args()
    os.chdir(REPO)
    if not osp.isdir(osp.join(DATA_ROOT, 'leftImg8bit')):
        print(f'writing generated street scenes to {DATA_ROOT}', flush=True)
        write_cityscapes_layout(DATA_ROOT, num_train=64, num_val=16, size=(64, 128), seed=0)

    rows = []
    if args.retrain_teacher or not osp.isfile(TEACHER_CKPT):
        seconds = train(TEACHER_CFG, 'teacher', args.teacher_iters)
        shutil.copy(osp.join(WORK, 'teacher', f'iter_{args.teacher_iters}.pth'), TEACHER_CKPT)
        teacher_time = f'{seconds:.0f}'
    else:
        teacher_time = f'cached ({TEACHER_CKPT})'
    rows.append(('teacher PSPNet-R101', args.teacher_iters, teacher_time,
                 evaluate(TEACHER_CFG, TEACHER_CKPT, 'teacher')))

    checkpoints = {}
    for name, config, options, title in (
            ('student', STUDENT_CFG, [], 'student PSPNet-R18 alone'),
            ('cwd', DISTILL_CFG, [f'model.teacher.checkpoint={TEACHER_CKPT}'], 'student PSPNet-R18 + CWD')):
        seconds = train(config, name, args.student_iters, *options)
        checkpoints[name] = osp.join(WORK, name, f'iter_{args.student_iters}.pth')
        rows.append((title, args.student_iters, f'{seconds:.0f}', evaluate(config, checkpoints[name], name)))

    print('\n| model | iterations | train time (s) | val mIoU |\n|---|---|---|---|')
    for title, iters, seconds, miou in rows:
        print(f'| {title} | {iters} | {seconds} | {miou:.2f} |')
    exported = osp.join(WORK, 'cwd_student.pth')
    run_tool('tools/export_student.py', DISTILL_CFG, checkpoints['cwd'], exported)
    picture = osp.join(WORK, 'comparison.png')
    draw_comparison({'teacher PSPNet-R101': (TEACHER_CFG, TEACHER_CKPT),
                     'student alone': (STUDENT_CFG, checkpoints['student']),
                     'student + CWD': (STUDENT_CFG, exported)}, picture)
    gain = rows[2][3] - rows[1][3]
    print(f'\ndistillation changed the student by {gain:+.2f} mIoU at the same budget of {args.student_iters} '
          f'iterations (the distilled run also pays for the teacher forward).\nPicture of their predictions: '
          f'{picture}; checkpoints and logs: {WORK}/')


if __name__ == '__main__':
    main()
