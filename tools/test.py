"""Evaluate a checkpoint. On a distillation config the student alone is evaluated.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR] [--show-dir DIR]
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [same options]

``--out DIR`` also writes the predictions as label PNGs (for Cityscapes configs use
``--cfg-options test_evaluator.format_only=True test_evaluator.output_dir=DIR`` for the test server).
"""
import argparse
import os

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmseg_kd  # noqa: F401
from mmseg_kd.engine.runner_setup import apply_common_options, start_cpu_process_group


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate a segmentor or the student of a distillation')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='directory for the evaluation log and metrics')
    parser.add_argument('--out', help='directory to write the predicted label maps to')
    parser.add_argument('--show-dir', help='directory to write prediction overlays to')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. test_dataloader.batch_size=1')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    cfg = apply_common_options(Config.fromfile(args.config), args.config, args.launcher, args.work_dir,
                               args.cfg_options)
    cfg.load_from = args.checkpoint
    if args.out:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    if args.show_dir:
        visualization = cfg.default_hooks.visualization
        visualization['draw'] = True
        visualization['interval'] = 1
        visualization['show'] = False
        cfg.visualizer['save_dir'] = args.show_dir
    start_cpu_process_group(cfg)
    runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
