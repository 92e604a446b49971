"""One short real training run of the CWD demo distillation through ``tools/train.py`` (``--amp`` on a GPU).

It writes the generated demo street scenes and a randomly initialised demo teacher checkpoint (what is measured is
that mixed-precision distillation trains with finite losses, and how fast; not what the student learns), a config
that points the demo CWD config at them, and runs ``tools/train.py`` in a subprocess. mmengine's ``--amp``
(``AmpOptimWrapper``, float16) needs a GPU: on the CPU the same run goes without ``--amp``, and the record says so.
"""
import json
import math
import os.path as osp
import subprocess
import sys
import time
from glob import glob

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout

DISTILL_CFG = 'distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py'
TEACHER_CFG = 'configs/demo/pspnet_r101-d8_demo-cityscapes-64x128.py'


def save_random_teacher(repo: str, path: str) -> str:
    """A randomly initialised demo PSPNet-R101 saved as an mmseg checkpoint (weights under ``state_dict``)."""
    cfg = Config.fromfile(osp.join(repo, TEACHER_CFG))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    torch.manual_seed(0)
    teacher = MODELS.build(cfg.model)
    torch.save({'state_dict': teacher.state_dict(), 'meta': {'note': 'random weights for gpu_report.py'}}, path)
    return path


def write_run_config(repo: str, path: str, data_root: str, teacher_checkpoint: str, iterations: int) -> str:
    """The demo CWD config on ``data_root`` for ``iterations`` steps, batch 2, a log line every step."""
    with open(path, 'w') as file:
        file.write(f"""_base_ = [{osp.join(repo, DISTILL_CFG)!r}]
model = dict(teacher=dict(checkpoint={teacher_checkpoint!r}))
train_dataloader = dict(batch_size=2, dataset=dict(data_root={data_root!r}))
val_dataloader = dict(dataset=dict(data_root={data_root!r}))
test_dataloader = val_dataloader
train_cfg = dict(max_iters={iterations}, val_interval={iterations})
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={iterations}))
visualizer = dict(vis_backends=[dict(type='LocalVisBackend')])
""")
    return path


def logged_losses(work_dir: str) -> list:
    """The total ``loss`` of every logged training step, in order (``<work_dir>/*/vis_data/scalars.json``)."""
    losses = []
    for scalars in sorted(glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(scalars) as file:
            losses += [record['loss'] for record in map(json.loads, file) if 'loss' in record]
    return losses


def dumped_optim_wrapper(dumped_config: str):
    """The optimizer wrapper type of the config as the run used it (the copy mmengine dumps in its work_dir)."""
    if not osp.isfile(dumped_config):
        return None
    return Config.fromfile(dumped_config).optim_wrapper.get('type')


def amp_training_run(repo: str, work_dir: str, device: str, iterations: int, timeout_s: float) -> dict:
    """Train the demo CWD distillation for ``iterations`` steps; its wall time, losses and whether AMP ran.

    Args:
        repo: the repository root (``tools/train.py`` and the configs are read there).
        work_dir: a fresh folder for the data, the teacher checkpoint, the config and the run.
        device: ``'cuda'`` runs with ``--amp``; ``'cpu'`` without (mmengine's AMP needs a GPU).
        iterations: training steps.
        timeout_s: the subprocess is stopped after this many seconds.

    Returns:
        dict with ``amp``, ``iterations``, ``seconds``, ``losses`` (every step), ``finite``, ``returncode`` and the
        tail of the run's output when it failed.
    """
    amp = str(device).startswith('cuda')
    data_root = write_cityscapes_layout(osp.join(work_dir, 'data'), num_train=8, num_val=2, seed=0, progress=False)
    teacher = save_random_teacher(repo, osp.join(work_dir, 'teacher_pspnet_r101_random.pth'))
    config = write_run_config(repo, osp.join(work_dir, 'amp_cwd_demo.py'), data_root, teacher, iterations)
    command = [sys.executable, osp.join(repo, 'tools/train.py'), config, '--work-dir', osp.join(work_dir, 'run')]
    command += ['--amp'] if amp else []
    start = time.perf_counter()
    process = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=timeout_s)
    seconds = time.perf_counter() - start
    losses = logged_losses(osp.join(work_dir, 'run'))
    record = dict(config=DISTILL_CFG, amp=amp, amp_note=None if amp else 'no GPU: trained without --amp',
                  iterations=iterations, seconds=seconds, returncode=process.returncode, losses=losses,
                  finite=bool(losses) and all(math.isfinite(loss) for loss in losses),
                  optim_wrapper=dumped_optim_wrapper(osp.join(work_dir, 'run', osp.basename(config))))
    if process.returncode != 0:
        record['output_tail'] = (process.stdout + process.stderr)[-3000:]
    return record
