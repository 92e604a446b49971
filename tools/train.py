"""Train a distillation (or plain mmseg) config with mmengine's runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--partial-load] [--amp] [--auto-scale-lr]
                             [--cfg-options k=v ...]
    bash tools/dist_train.sh CONFIG GPUS [same options]

Checkpoints given by ``--resume`` or ``load_from`` must hold exactly the model's weights (``CheckpointPairingHook``);
``--partial-load`` loads what matches instead. A mistake in the command, config or data ends in one short message
(``MMSEG_KD_DEBUG=1`` shows the traceback).
A config with ``compute_budget`` trains as many iterations as its budget in student steps allows
(``mmseg_kd/engine/compute_budget.py``); a config with unlabeled images is checked before anything is built
(``mmseg_kd/engine/unlabeled_images_check.py``).
Checkpoints are written atomically (``AtomicCheckpointHook``); the work dir is locked for the whole run
(``WorkDirLock``: a second run into it is refused); ``--resume`` checks the checkpoint and lists what the config
changes (``mmseg_kd/engine/resume_checks.py``).
Every ``--cfg-options`` key must name something the config reads (``mmseg_kd/utils/config_keys.py``), and a config
entry its class cannot be built from is named with the closest keyword (``mmseg_kd/engine/build_errors.py``).
"""
import argparse
import contextlib
import os

from mmengine.config import Config, DictAction
from mmengine.device import is_cuda_available, is_mlu_available, is_musa_available, is_npu_available
from mmengine.runner import Runner

import mmseg_kd  # noqa: F401  (registers the distiller, losses and safe checkpoint types)
from mmseg_kd.checkpoint.complete_checkpoint import check_complete_checkpoint
from mmseg_kd.engine.build_errors import explained_build_errors
from mmseg_kd.engine.compute_budget import apply_compute_budget
from mmseg_kd.engine.data_checks import add_data_checks
from mmseg_kd.engine.input_sizes import set_dry_run_input_size
from mmseg_kd.engine.resume_checks import check_resume, latest_checkpoint
from mmseg_kd.engine.runner_setup import (
    add_checkpoint_pairing_hook,
    add_training_hooks,
    apply_common_options,
    check_dataset_paths,
    check_unused_parameters_allowed,
    finish_process_group,
    start_cpu_process_group,
    use_atomic_checkpoint_hook,
)
from mmseg_kd.engine.tool_errors import run_tool
from mmseg_kd.engine.unlabeled_images_check import check_unlabeled_images
from mmseg_kd.engine.work_dir_lock import WorkDirLock
from mmseg_kd.utils.known_mmseg_warnings import keep_known_mmseg_messages_off_console
from mmseg_kd.utils.user_input_error import UserInputError


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor or a distillation config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='directory for logs and checkpoints '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
                        help='resume from CHECKPOINT, or from the latest checkpoint of the work dir '
                        'when no path is given')
    parser.add_argument('--partial-load', action='store_true',
                        help='load the weights of the --resume/load_from checkpoint that match the model and report '
                        'the others, instead of stopping on any missing, unexpected or mis-shaped key')
    parser.add_argument('--amp', action='store_true', help='mixed-precision training of the student')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate linearly by (GPUs x batch per GPU) / the total batch the '
                        "config's recipe was tuned for (auto_scale_lr.base_batch_size)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_iters=1000')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args) -> Config:
    cfg = apply_common_options(Config.fromfile(args.config), args.config, args.launcher, args.work_dir,
                               args.cfg_options)
    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print('AMP is already enabled in the config')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    check_amp_device(cfg)
    if args.auto_scale_lr:
        enable_lr_scaling(cfg, args.config)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, latest_checkpoint(cfg.work_dir)
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    apply_compute_budget(cfg)
    for note in check_unlabeled_images(cfg):
        print(f'unlabeled images: {note}', flush=True)
    add_training_hooks(cfg)
    use_atomic_checkpoint_hook(cfg)
    add_checkpoint_pairing_hook(cfg, args.partial_load)
    check_unused_parameters_allowed(cfg)
    set_dry_run_input_size(cfg)
    check_dataset_paths(cfg, ('train_dataloader', 'val_dataloader'))
    add_data_checks(cfg, ('train_dataloader', 'val_dataloader'))
    start_cpu_process_group(cfg)
    return cfg


def check_amp_device(cfg: Config) -> None:
    """Mixed precision (``AmpOptimWrapper``) needs a CUDA, NPU, MLU or MUSA device, as mmengine asserts."""
    if cfg.optim_wrapper.get('type') != 'AmpOptimWrapper':
        return
    if not (is_cuda_available() or is_npu_available() or is_mlu_available() or is_musa_available()):
        raise UserInputError('--amp (optim_wrapper.type=AmpOptimWrapper) trains in float16 on a GPU, and this machine '
                             'has none (torch sees no CUDA, NPU, MLU or MUSA device). Drop --amp, or set '
                             "optim_wrapper.type='OptimWrapper' if the config itself asks for AMP.")


def enable_lr_scaling(cfg: Config, config_path: str) -> None:
    """Turn on mmengine's linear learning-rate scaling, which needs the recipe's total batch size."""
    if not (cfg.get('auto_scale_lr') or {}).get('base_batch_size'):
        raise UserInputError(f'--auto-scale-lr: {config_path} does not say which total batch size its learning rate '
                             'was tuned for; add auto_scale_lr = dict(enable=False, base_batch_size=N) to the '
                             'config (N = GPUs x images per GPU of the recipe)')
    cfg.auto_scale_lr.enable = True


def check_loaded_checkpoint(cfg: Config) -> None:
    """A ``load_from``/``--resume`` checkpoint must be complete; a resumed run's config changes are listed."""
    if not cfg.get('load_from'):
        return
    check_complete_checkpoint(cfg.load_from, 'resume checkpoint' if cfg.resume else 'load_from checkpoint')
    if cfg.resume:
        differences = check_resume(cfg, cfg.load_from)
        if differences:
            print(f'resume: the config differs from the one {cfg.load_from} was trained with in '
                  f'{len(differences)} entries:\n' + '\n'.join(f'  {line}' for line in differences), flush=True)


def is_first_rank() -> bool:
    """Rank 0 of a distributed run (torchrun, Slurm, MPI), or a single process."""
    for variable in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if variable in os.environ:
            return int(os.environ[variable]) == 0
    return True


def main():
    args = parse_args()
    cfg = build_config(args)
    lock = WorkDirLock(cfg.work_dir, resume=bool(args.resume)) if is_first_rank() else contextlib.nullcontext()
    with lock, explained_build_errors(cfg):
        check_loaded_checkpoint(cfg)
        runner = Runner.from_cfg(cfg)
        keep_known_mmseg_messages_off_console(runner.logger)
        runner.train()
    finish_process_group()


if __name__ == '__main__':
    run_tool(main)
