"""Evaluate a checkpoint. On a distillation config the student alone is evaluated.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR] [--show-dir DIR]
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [same options]

``--out DIR`` also writes the predictions as label PNGs. ``--cityscapes-test-server DIR`` predicts the Cityscapes
test split (``leftImg8bit/test``, no labels needed) and writes ``*_leftImg8bit.png`` files with Cityscapes label ids
in DIR, the format of the official test server (zip DIR and upload it).
"""
import argparse
import os

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmseg_kd  # noqa: F401
from mmseg_kd.engine.data_checks import add_data_checks
from mmseg_kd.engine.runner_setup import (apply_common_options, check_dataset_paths, finish_process_group,
                                          start_cpu_process_group)


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate a segmentor or the student of a distillation')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='directory for the evaluation log and metrics')
    parser.add_argument('--out', help='directory to write the predicted label maps to')
    parser.add_argument('--show-dir', help='directory to write prediction overlays to')
    parser.add_argument('--cityscapes-test-server', metavar='DIR',
                        help='predict leftImg8bit/test and write the test-server submission to DIR')
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
        raise SystemExit(f"--cityscapes-test-server needs a Cityscapes test dataset, got {dataset.get('type')}")
    dataset.data_prefix = dict(img_path='leftImg8bit/test', seg_map_path='gtFine/test')
    dataset.pipeline = [step for step in dataset.pipeline if step['type'] != 'LoadAnnotations']
    cfg.test_evaluator = dict(type='CityscapesMetric', format_only=True, keep_results=True, output_dir=out_dir)


def main():
    args = parse_args()
    cfg = apply_common_options(Config.fromfile(args.config), args.config, args.launcher, args.work_dir,
                               args.cfg_options)
    cfg.load_from = args.checkpoint
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
    runner = Runner.from_cfg(cfg)
    runner.test()
    finish_process_group()


if __name__ == '__main__':
    main()
