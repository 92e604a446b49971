"""``make demo``: an end-to-end distillation on generated street scenes, on the CPU, in a few minutes.

1. writes procedural street scenes in the Cityscapes layout to ``data/demo_cityscapes`` (once);
2. trains the teacher, PSPNet-R101, with ``tools/train.py`` (once; reused on later runs);
3. distils it into PSPNet-R18 with channel-wise distillation
   (``distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py``);
4. evaluates teacher and distilled student with ``tools/test.py`` and prints their mIoU.

Everything runs through the same tools a user runs; logs and checkpoints land in ``work_dirs/demo``.
"""
import argparse
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

DATA_ROOT = 'data/demo_cityscapes'
WORK = 'work_dirs/demo'
TEACHER_CFG = 'configs/demo/pspnet_r101-d8_demo-cityscapes-64x128.py'
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
        if re.search(r'Iter\(\w+\)|mIoU|Error|error', line):
            print('   ', line.rstrip()[-160:], flush=True)
    if process.wait() != 0:
        sys.exit(''.join(lines[-40:]) + f'\n{command[1]} failed')
    return ''.join(lines)


def miou(test_output: str) -> float:
    found = re.findall(r'mIoU: (\d+\.\d+)', test_output)
    if not found:
        sys.exit('no mIoU in the test output')
    return float(found[-1])


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

    times = {}
    if args.retrain_teacher or not osp.isfile(TEACHER_CKPT):
        start = time.time()
        run_tool('tools/train.py', TEACHER_CFG, '--work-dir', osp.join(WORK, 'teacher'),
                 '--cfg-options', *schedule_options(args.teacher_iters))
        shutil.copy(osp.join(WORK, 'teacher', f'iter_{args.teacher_iters}.pth'), TEACHER_CKPT)
        times['teacher'] = time.time() - start
    teacher_miou = miou(run_tool('tools/test.py', TEACHER_CFG, TEACHER_CKPT,
                                 '--work-dir', osp.join(WORK, 'teacher_test')))

    start = time.time()
    run_tool('tools/train.py', DISTILL_CFG, '--work-dir', osp.join(WORK, 'cwd'),
             '--cfg-options', f'model.teacher.checkpoint={TEACHER_CKPT}',
             *schedule_options(args.student_iters))
    times['student'] = time.time() - start
    student_ckpt = osp.join(WORK, 'cwd', f'iter_{args.student_iters}.pth')
    student_miou = miou(run_tool('tools/test.py', DISTILL_CFG, student_ckpt,
                                 '--work-dir', osp.join(WORK, 'cwd_test')))

    print('\n| model | iterations | train time (s) | val mIoU |')
    print('|---|---|---|---|')
    teacher_time = f"{times['teacher']:.0f}" if 'teacher' in times else 'reused'
    print(f'| teacher PSPNet-R101 | {args.teacher_iters} | {teacher_time} | {teacher_miou:.2f} |')
    print(f"| student PSPNet-R18 + CWD | {args.student_iters} | {times['student']:.0f} | "
          f'{student_miou:.2f} |')
    print(f'\nstudent mIoU: {student_miou:.2f} (checkpoint {student_ckpt}; '
          f'export it with tools/export_student.py)')


if __name__ == '__main__':
    main()
