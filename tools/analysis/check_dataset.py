"""Load every image and label map of a config's datasets once and list every bad file.

    python tools/analysis/check_dataset.py CONFIG [--loaders train_dataloader val_dataloader ...]
                                                  [--cfg-options key=value ...]

Training and evaluation already check each sample where it is loaded and stop at the first bad file (an image that
cannot be decoded, a label value that is neither a class nor the ignore index). This tool checks a whole dataset in
one pass, with the same checks and only the loading steps of the pipelines, and lists every problem, each naming its
file. The exit status is 1 when a problem is found, 0 otherwise.
"""
import argparse
import sys
from typing import Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import mmseg_kd  # noqa: F401  (registers the checked loading steps)
from mmseg_kd.engine.dataset_scan import scan_dataloader
from mmseg_kd.engine.runner_setup import check_dataset_paths
from mmseg_kd.utils.config_keys import merge_checked_options

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(description="Check every image and label map of a config's datasets")
    parser.add_argument('config', help='config file')
    parser.add_argument('--loaders', nargs='+', choices=LOADERS, default=list(LOADERS),
                        help='which dataloaders to check (default: all three; the same dataset is checked once)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_dataloader.dataset.data_root=PATH')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_checked_options(cfg, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loaders, seen = [], []
    for loader in args.loaders:
        if cfg.get(loader) and cfg[loader]['dataset'] not in seen:
            loaders.append(loader)
            seen.append(cfg[loader]['dataset'])
    check_dataset_paths(cfg, loaders)
    problems = 0
    for loader in loaders:
        result = scan_dataloader(cfg, loader)
        for problem in result.problems:
            print(f'{loader}: {problem}')
        print(f'{loader}: {result.samples} samples loaded, {len(result.problems)} bad file(s)')
        problems += len(result.problems)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
