"""Evaluate a checkpoint. On a distillation config the student alone is built and evaluated.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR] [--show-dir DIR] [--partial-load]
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [same options]

The teacher is never built (its checkpoint file need not exist). The student's weights come from a distillation
checkpoint (its ``student.*`` weights) or a plain one (e.g. written by ``tools/export_student.py``), with either the
distillation config or the student's own config; any other checkpoint must hold exactly the model's weights
(``CheckpointPairingHook``), unless ``--partial-load`` asks to load what matches.

``--out DIR`` also writes the predictions as label PNGs. ``--cityscapes-test-server DIR`` predicts the Cityscapes
test split (``leftImg8bit/test``, no labels needed) and writes ``*_leftImg8bit.png`` files with Cityscapes label ids
in DIR, the format of the official test server (zip DIR and upload it).
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmseg_kd  # noqa: F401
from mmseg_kd.checkpoint.complete_checkpoint import check_complete_checkpoint
from mmseg_kd.engine.build_errors import explained_build_errors
from mmseg_kd.engine.data_checks import add_data_checks
from mmseg_kd.engine.evaluation_model import evaluation_model_config
from mmseg_kd.engine.runner_setup import (
    add_checkpoint_pairing_hook,
    apply_common_options,
    check_dataset_paths,
    finish_process_group,
    start_cpu_process_group,
)
from mmseg_kd.engine.tool_errors import run_tool
from mmseg_kd.utils.known_mmseg_warnings import keep_known_mmseg_messages_off_console
from mmseg_kd.utils.user_input_error import UserInputError


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate a segmentor or the student of a distillation')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='directory for the evaluation log and metrics')
    parser.add_argument('--out', help='directory to write the predicted label maps to')
    parser.add_argument('--show-dir', help='directory to write prediction overlays to')
    parser.add_argument('--cityscapes-test-server', metavar='DIR',
                        help='predict leftImg8bit/test and write the test-server submission to DIR')
    parser.add_argument('--partial-load', action='store_true',
                        help='load the weights of CHECKPOINT that match the model and report the others, instead of '
                        'stopping on any missing, unexpected or mis-shaped key')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. test_dataloader.batch_size=1')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def use_cityscapes_test_split(cfg: Config, out_dir: str) -> None:
    """Predict Cityscapes' unlabelled test split and write label-id PNGs for the test server."""
    dataset = cfg.test_dataloader.dataset
    if dataset.get('type') != 'CityscapesDataset':
        raise UserInputError(f"--cityscapes-test-server needs a Cityscapes test dataset, got {dataset.get('type')}")
    dataset.data_prefix = dict(img_path='leftImg8bit/test', seg_map_path='gtFine/test')
    dataset.pipeline = [step for step in dataset.pipeline if step['type'] != 'LoadAnnotations']
    cfg.test_evaluator = dict(type='CityscapesMetric', format_only=True, keep_results=True, output_dir=out_dir)


def main():
    args = parse_args()
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        raise UserInputError(f'checkpoint {args.checkpoint!r} does not exist: give the path of a .pth file written by '
                             'tools/train.py or tools/export_student.py, or of an mmseg checkpoint')
    cfg = apply_common_options(Config.fromfile(args.config), args.config, args.launcher, args.work_dir,
                               args.cfg_options)
    cfg.model = evaluation_model_config(cfg.model)
    check_complete_checkpoint(args.checkpoint, 'checkpoint')
    cfg.load_from, cfg.resume = args.checkpoint, False
    add_checkpoint_pairing_hook(cfg, args.partial_load)
    if args.out:
        cfg.test_evaluator['output_dir'] = args.out
    if args.cityscapes_test_server:
        use_cityscapes_test_split(cfg, args.cityscapes_test_server)
    if args.show_dir:
        visualization = cfg.default_hooks.visualization
        visualization['draw'] = True
        visualization['interval'] = 1
        visualization['show'] = False
        cfg.visualizer['save_dir'] = args.show_dir
    check_dataset_paths(cfg, ('test_dataloader',))
    add_data_checks(cfg, ('test_dataloader',))
    start_cpu_process_group(cfg)
    with explained_build_errors(cfg):
        runner = Runner.from_cfg(cfg)
        keep_known_mmseg_messages_off_console(runner.logger)
        runner.test()
    finish_process_group()


if __name__ == '__main__':
    run_tool(main)
