"""``make demo``: a big teacher lifts a small student that has few labels, through unlabeled images, on the CPU.

1. writes procedural street scenes in the Cityscapes layout to ``data/demo_cityscapes`` and a split of their
   training scenes into 8 labeled and the rest unlabeled (once; again when the generator's settings change);
2. trains the teacher, PSPNet-R101, on every labeled training scene (once; cached in ``work_dirs/demo``), and
   stores its logits for every training scene in ``work_dirs/demo/teacher_cache`` (``tools/cache_teacher.py``; once
   per teacher);
3. trains the student, PSPNet-R18, at one compute budget (``--student-steps`` steps of the student alone), five
   times: on the 8 labeled scenes alone; on the 8 labeled scenes plus the others as unlabeled images, with pixel-wise
   KD from the teacher run online; the same with the teacher's logits read from the cache; on every labeled scene
   alone; on every labeled scene with CWD. Each distillation run trains as many iterations as the budget pays for at
   its measured step cost (``compute_budget``; the costs are the records in ``configs/demo/step_costs/``,
   ``--measure-step-costs`` measures them again on this machine); the cached run pays the cache's one-off cost (the
   teacher's time over every training scene, as the cache's manifest records it) out of the same budget;
4. evaluates every model with ``tools/test.py``, prints one table, writes ``work_dirs/demo/results.json`` and draws
   the predictions side by side in ``work_dirs/demo/comparison.png`` (distilled students exported to plain mmseg
   checkpoints with ``tools/export_student.py``).

Everything runs through the same tools a user runs; logs and checkpoints land in ``work_dirs/demo``. A SIGINT
(Ctrl-C) or SIGTERM sent to the demo stops the tool it is running too (each tool runs in a session of its own,
so the signal reaches it once, from the demo).
"""
import argparse
import contextlib
import glob
import hashlib
import json
import os
import os.path as osp
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmseg_kd.datasets.label_split import split_paths, write_label_split  # noqa: E402
from mmseg_kd.datasets.procedural_cityscapes import SCENES_FILE, scene_settings, write_cityscapes_layout  # noqa: E402

PICTURE_IMAGES = 4  # validation images shown in the comparison picture

DATA_ROOT = 'data/demo_cityscapes'
NUM_TRAIN, NUM_VAL, NUM_LABELED, SIZE = 256, 64, 8, (64, 128)
WORK = 'work_dirs/demo'
TEACHER_CFG = 'configs/demo/pspnet_r101-d8_demo-cityscapes-64x128.py'
STUDENT_CFG = 'configs/demo/pspnet_r18-d8_demo-cityscapes-64x128.py'
FEW_LABELS_CFG = 'configs/demo/pspnet_r18-d8_demo-cityscapes-64x128-8labeled.py'
UNLABELED_KD_CFG = 'distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled_cityscapes.py'
CACHED_KD_CFG = 'distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled-cached_cityscapes.py'
TEACHER_CACHE = osp.join(WORK, 'teacher_cache')  # CACHED_KD_CFG's teacher.cache
DISTILL_CFG = 'distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py'
TEACHER_CKPT = osp.join(WORK, 'teacher_pspnet_r101.pth')
TEACHER_RECORD = osp.join(WORK, 'teacher_pspnet_r101.json')  # how the cached teacher was trained
SHIPPED_STEP_COSTS = 'configs/demo/step_costs'
# The record of a cached config is its online twin's, measured with benchmark.py --cached (it holds both costs).
STEP_COSTS_OF = {CACHED_KD_CFG: UNLABELED_KD_CFG}
MEASURED_STEP_COSTS = osp.join(WORK, 'step_costs')  # --measure-step-costs writes them here


@dataclass
class Row:
    """One line of the table and one entry of results.json."""
    name: str
    labeled_images: int
    unlabeled_images: int
    iterations: int
    train_seconds: Optional[float]
    val_miou: float
    config: str
    note: str = ''


PROGRESS_LINE = re.compile(r'Iter\(train\)|mIoU:|Error|compute budget:')
RUNNING_TOOLS: List[subprocess.Popen] = []  # the tool run_tool_process waits for, for the signal handler
TOOL_STOP_WAIT_S = 30  # after forwarding a signal, how long a tool may take to stop before it is killed
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def unblock_forwarded_signals() -> None:
    """In the tool's process, before it starts: receive the signals the demo blocked while starting it."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED_SIGNALS)


def run_tool_process(*args) -> str:
    """Run a tool from the repository root, echo its progress lines (from the keyword on, whole), return its
    output. The tool runs in a new session: a terminal's Ctrl-C reaches the demo only, which forwards it."""
    command = [sys.executable, *map(str, args)]
    print('$', ' '.join(command[1:]), flush=True)
    # A signal that arrives between the tool's start and its registration waits (blocked) until the handler can
    # forward it; the tool itself starts with the signals unblocked.
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED_SIGNALS)
    try:
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env=dict(os.environ, PYTHONUNBUFFERED='1'), start_new_session=True,
                                   preexec_fn=unblock_forwarded_signals)
        RUNNING_TOOLS.append(process)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED_SIGNALS)
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            found = PROGRESS_LINE.search(line)
            if found:
                print('   ', line.rstrip()[found.start():], flush=True)
        status = process.wait()
    finally:
        RUNNING_TOOLS.remove(process)
    if status != 0:
        sys.exit(''.join(lines[-40:]) + f'\n{command[1]} failed')
    return ''.join(lines)


def stop_tools_and_exit(signum: int, frame) -> None:
    """Signal handler: send the signal on to the running tool's process group, wait for it, exit 128 + signum."""
    name = signal.Signals(signum).name
    for process in RUNNING_TOOLS:
        print(f'\ndemo.py: {name} received; stopping {process.args[1]} (pid {process.pid})', file=sys.stderr,
              flush=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
        try:
            process.wait(timeout=TOOL_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    sys.exit(128 + signum)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def train(config: str, name: str, *options) -> dict:
    """Train ``config`` into work_dirs/demo/NAME at a compute budget given in ``options``; returns its wall time,
    the iterations the budget paid for (tools/train.py records them) and the load average before and after."""
    budget_record = osp.join(WORK, name, 'compute_budget.json')
    if osp.isfile(budget_record):
        os.remove(budget_record)
    load_before, start = load_average(), time.time()
    run_tool_process('tools/train.py', config, '--work-dir', osp.join(WORK, name), '--cfg-options', *options)
    seconds = time.time() - start
    with open(budget_record) as file:
        budget = json.load(file)
    return dict(seconds=round(seconds, 1), iterations=budget['iterations'], load=[load_before, load_average()],
                cache_student_steps=budget.get('teacher_cache_student_steps'))


def evaluate(config: str, checkpoint: str, name: str) -> float:
    output = run_tool_process('tools/test.py', config, checkpoint, '--work-dir', osp.join(WORK, name + '_test'))
    found = re.findall(r'mIoU: (\d+\.\d+)', output)
    if not found:
        sys.exit(f'no mIoU in the output of tools/test.py {config}')
    return float(found[-1])


def prepare_data(num_train: int, num_val: int, num_labeled: int) -> dict:
    """The scenes and the split, written unless the data root already holds exactly these."""
    wanted = scene_settings(num_train, num_val, SIZE, seed=0)
    scenes_file = osp.join(DATA_ROOT, SCENES_FILE)
    current = json.load(open(scenes_file)) if osp.isfile(scenes_file) else None
    if current != wanted:
        if osp.isdir(DATA_ROOT):
            print(f'{DATA_ROOT} holds other scenes ({current}); writing them again', flush=True)
            shutil.rmtree(DATA_ROOT)
        write_cityscapes_layout(DATA_ROOT, num_train=num_train, num_val=num_val, size=SIZE, seed=0)
    if not all(osp.isfile(osp.join(DATA_ROOT, path)) for path in split_paths(DATA_ROOT, num_labeled)):
        write_label_split(DATA_ROOT, num_labeled, seed=0)
    return wanted


def config_digest(path: str) -> str:
    """A hash of a config as mmengine reads it (its _base_ files included)."""
    from mmengine.config import Config
    return hashlib.sha256(Config.fromfile(path).pretty_text.encode()).hexdigest()[:16]


def teacher_row(args, scenes: dict) -> Row:
    """Train the teacher unless the cached one was trained by this config on these scenes for these iterations."""
    wanted = dict(scenes=scenes, iterations=args.teacher_iters, config_digest=config_digest(TEACHER_CFG))
    cached = json.load(open(TEACHER_RECORD)) if osp.isfile(TEACHER_RECORD) else {}
    note = f'cached: {TEACHER_CKPT}'
    if args.retrain_teacher or not osp.isfile(TEACHER_CKPT) or \
            {key: cached.get(key) for key in wanted} != wanted:
        run = train(TEACHER_CFG, 'teacher', f'compute_budget.student_steps={args.teacher_iters}')
        shutil.copy(osp.join(WORK, 'teacher', f'iter_{args.teacher_iters}.pth'), TEACHER_CKPT)
        cached = dict(wanted, train_seconds=run['seconds'], load=run['load'])
        with open(TEACHER_RECORD, 'w') as file:
            json.dump(cached, file, indent=2)
        note = 'trained now'
    return Row('teacher PSPNet-R101', scenes['num_train'], 0, args.teacher_iters, cached['train_seconds'],
               evaluate(TEACHER_CFG, TEACHER_CKPT, 'teacher'), TEACHER_CFG, note)


def teacher_cache() -> dict:
    """Write the teacher's logits for every training scene into TEACHER_CACHE (a cache of an earlier teacher is
    removed first; the tool resumes an interrupted one); returns the cache's recorded cost."""
    from mmseg_kd.checkpoint.sha256 import file_sha256
    from mmseg_kd.datasets.teacher_logit_cache import manifest_path, read_manifest

    if osp.isfile(manifest_path(TEACHER_CACHE)) and \
            read_manifest(TEACHER_CACHE)['teacher'].get('checkpoint_sha256') != file_sha256(TEACHER_CKPT):
        shutil.rmtree(TEACHER_CACHE)
    run_tool_process('tools/cache_teacher.py', CACHED_KD_CFG, '--device', 'cpu', '--cfg-options',
                     f'model.teacher.checkpoint={TEACHER_CKPT}')
    manifest = read_manifest(TEACHER_CACHE)
    return dict(seconds=manifest['seconds'], images=len(manifest['images']))


def step_costs_file(config: str, measure: bool) -> str:
    """The step-cost record of a distillation config: the shipped one, or measured now into work_dirs/demo."""
    measured = STEP_COSTS_OF.get(config, config)
    name = osp.splitext(osp.basename(measured))[0] + '.json'
    if not measure:
        return osp.join(SHIPPED_STEP_COSTS, name)
    path = osp.join(MEASURED_STEP_COSTS, name)
    if not osp.isfile(path):  # once per demo run (main empties the folder), also when two configs share it
        os.makedirs(osp.dirname(path), exist_ok=True)
        cached = ['--cached'] if measured in STEP_COSTS_OF.values() else []
        run_tool_process('tools/analysis/benchmark.py', measured, '--batch-size', 4, '--device', 'cpu', '--iters',
                         11, '--warmup', 2, *cached, '--out', path)
    return path


def student_rows(args, scenes: dict, cache: dict) -> List[tuple]:
    """(row, config, checkpoint) of the five student runs at the same compute budget; ``cache``: what writing the
    teacher cache cost (``teacher_cache()``)."""
    labeled, unlabeled = scenes['num_train'], 0
    few_unlabeled = labeled - args.num_labeled
    budget = [f'compute_budget.student_steps={args.student_steps}', f'randomness.seed={args.seed}']
    teacher = [f'model.teacher.checkpoint={TEACHER_CKPT}']
    runs = (
        ('few_labels', FEW_LABELS_CFG, f'student PSPNet-R18, {args.num_labeled} labeled', args.num_labeled, 0, None),
        ('few_labels_kd', UNLABELED_KD_CFG,
         f'student PSPNet-R18, {args.num_labeled} labeled + {few_unlabeled} unlabeled, KD', args.num_labeled,
         few_unlabeled, UNLABELED_KD_CFG),
        ('few_labels_kd_cached', CACHED_KD_CFG,
         f'student PSPNet-R18, {args.num_labeled} labeled + {few_unlabeled} unlabeled, KD from the teacher cache',
         args.num_labeled, few_unlabeled, CACHED_KD_CFG),
        ('all_labels', STUDENT_CFG, 'student PSPNet-R18, all labeled', labeled, unlabeled, None),
        ('all_labels_cwd', DISTILL_CFG, 'student PSPNet-R18, all labeled, CWD', labeled, unlabeled, DISTILL_CFG))
    rows = []
    for name, config, title, num_labeled, num_unlabeled, distilled in runs:
        options = list(budget)
        if distilled:
            options += teacher + [f'compute_budget.step_costs={step_costs_file(distilled, args.measure_step_costs)}']
        run = train(config, name, *options)
        checkpoint = osp.join(WORK, name, f"iter_{run['iterations']}.pth")
        note = f"load {run['load'][0]} -> {run['load'][1]}"
        if run['cache_student_steps'] is not None:
            note += (f"; teacher cache: {cache['seconds']:.0f} s once for {cache['images']} scenes, "
                     f"{run['cache_student_steps']:.0f} student steps of the budget")
        row = Row(title, num_labeled, num_unlabeled, run['iterations'], run['seconds'],
                  evaluate(config, checkpoint, name), config, note)
        rows.append((row, config, checkpoint))
    return rows


def draw_comparison(checkpoints: dict, out_file: str) -> None:
    """Predictions of the teacher and the students on validation images, side by side.

    The models were built and evaluated by the tools already, which showed mmseg's warnings about them; building
    them again here would repeat those warnings after the table, so they are not shown a second time.
    """
    import warnings

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
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        for title, (config, checkpoint) in checkpoints.items():
            model = init_model(config, checkpoint, device='cpu')
            predictions[title] = [inference_model(model, path).pred_sem_seg.data[0].numpy() for path in images]
        meta = model.dataset_meta
        draw_prediction_comparison([np.asarray(Image.open(p).convert('RGB')) for p in images],
                                   [np.asarray(Image.open(p)) for p in labels], predictions, meta['classes'],
                                   meta['palette'], out_file)


def print_table(rows: List[Row], budget: int) -> None:
    print(f'\nstudents at equal compute: {budget} student steps each\n')
    print('| model | labeled images | unlabeled images | iterations | train time (s) | val mIoU |')
    print('|---|---|---|---|---|---|')
    for row in rows:
        seconds = f'{row.train_seconds:.0f}' + (' (cached)' if row.note.startswith('cached') else '')
        print(f'| {row.name} | {row.labeled_images} | {row.unlabeled_images} | {row.iterations} | {seconds} | '
              f'{row.val_miou:.2f} |')
    for row in rows:
        if 'teacher cache:' in row.note:
            print(f"\n{row.name}: {row.note.split('; ', 1)[1]}; its train time above leaves it out")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--teacher-iters', type=int, default=300,
                        help='iterations the teacher trains (batch 4); a cached teacher trained for another number '
                             'is trained again')
    parser.add_argument('--student-steps', type=int, default=480,
                        help='the compute budget of every student run, in steps of the student alone')
    parser.add_argument('--seed', type=int, default=0, help='seed of the student runs (the teacher uses 0)')
    parser.add_argument('--num-train', type=int, default=NUM_TRAIN, help='generated training scenes')
    parser.add_argument('--num-val', type=int, default=NUM_VAL, help='generated validation scenes')
    parser.add_argument('--measure-step-costs', action='store_true',
                        help='measure the step costs of the distillation configs on this machine instead of reading '
                             f'the records in {SHIPPED_STEP_COSTS}/')
    parser.add_argument('--retrain-teacher', action='store_true', help='train the teacher again')
    args = parser.parse_args()
    args.num_labeled = NUM_LABELED  # the configs read splits/8/
    return args


def main():
    args = parse_args()
    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, stop_tools_and_exit)
    os.chdir(REPO)
    start = time.time()
    os.makedirs(WORK, exist_ok=True)
    if args.measure_step_costs:
        shutil.rmtree(MEASURED_STEP_COSTS, ignore_errors=True)
    scenes = prepare_data(args.num_train, args.num_val, args.num_labeled)
    rows = [teacher_row(args, scenes)]
    cache = teacher_cache()
    students = student_rows(args, scenes, cache)
    rows += [row for row, _, _ in students]
    print_table(rows, args.student_steps)

    pictured = {'teacher': (TEACHER_CFG, TEACHER_CKPT)}
    student_configs = {UNLABELED_KD_CFG: FEW_LABELS_CFG, CACHED_KD_CFG: FEW_LABELS_CFG, DISTILL_CFG: STUDENT_CFG}
    for (row, config, checkpoint), title in zip(students, ('8 labeled', '8 labeled + unlabeled, KD',
                                                           '8 labeled + unlabeled, cached KD', 'all labeled',
                                                           'all labeled, CWD')):
        if config in student_configs:
            exported = checkpoint.replace('.pth', '_student.pth')
            run_tool_process('tools/export_student.py', config, checkpoint, exported)
            config, checkpoint = student_configs[config], exported
        pictured[title] = (config, checkpoint)
    picture = osp.join(WORK, 'comparison.png')
    draw_comparison(pictured, picture)

    results = dict(seed=args.seed, student_steps=args.student_steps, scenes=scenes, teacher_cache=cache,
                   total_seconds=round(time.time() - start, 1), rows=[asdict(row) for row in rows])
    with open(osp.join(WORK, 'results.json'), 'w') as file:
        json.dump(results, file, indent=2)
    few, few_kd, few_kd_cached, full, full_cwd = (row.val_miou for row in rows[1:])
    print(f'\nWith {args.num_labeled} labeled scenes, distillation on the unlabeled ones changed the student by '
          f'{few_kd - few:+.2f} mIoU with the teacher online, {few_kd_cached - few:+.2f} with its cached logits (the '
          f"cache's one-off cost paid from the budget); with every scene labeled, CWD changed it by "
          f'{full_cwd - full:+.2f} mIoU (same compute in every student run).\nTable: {WORK}/results.json; '
          f'picture: {picture}; checkpoints and logs: {WORK}/; {results["total_seconds"]:.0f} s in all.')


if __name__ == '__main__':
    main()
