"""The command line the converter tools share: read, convert, check against a config, write.

``python tools/model_converters/NAME.py SRC DST [--config CONFIG]`` reads SRC with ``weights_only=True``
(``{'state_dict': ...}``, ``{'model': ...}`` or a plain state dict, ``module.`` prefixes removed), converts it,
builds the model of the config it belongs to (``--config``, or the repository config the converter names) and
loads the result into it strictly (the backbone only, for an ImageNet backbone file), then writes
``{'state_dict': ..., 'meta': ...}`` to DST. A file the converter refuses, or a result that does not load, ends
the tool with exit status 1 and a message, and nothing is written; DST is refused before anything is read if it is
SRC itself or an existing folder, and it is written atomically (complete or not at all).
"""
import argparse
import os.path as osp
import sys
from pathlib import Path
from typing import Callable, List, Optional

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmseg_kd.checkpoint import (
    CheckpointMismatchError,
    extract_state_dict,
    load_checkpoint_file,
    load_state_dict_strictly,
)
from mmseg_kd.checkpoint.atomic_write import write_atomically
from mmseg_kd.checkpoint.output_path import check_output_path
from mmseg_kd.models.converters.key_mapping import ConvertedCheckpoint, StateDict, UnsupportedCheckpointError
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.user_input_error import UserInputError

REPOSITORY = Path(__file__).resolve().parents[3]


def resolve_config(path: str) -> Optional[str]:
    """``path`` if it exists, else the same path inside this repository, else None."""
    for candidate in (Path(path), REPOSITORY / path):
        if candidate.is_file():
            return str(candidate)
    return None


def check_against_config(result: ConvertedCheckpoint, config: str) -> None:
    """Build the config's model and load the converted weights into it (or its backbone) strictly.

    Raises:
        CheckpointMismatchError: missing, unexpected or mis-shaped keys (listed).
    """
    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(config).model)
    target = model.backbone if result.backbone_only else model
    load_state_dict_strictly(target, result.state_dict, what='the converted weights',
                             config_hint=f'{config}' + (' (its backbone)' if result.backbone_only else ''))


def summary_of_keys(keys: List[str], limit: int = 4) -> str:
    """The first few keys and how many more."""
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys) - limit} more)' if len(keys) > limit else '')


def run_converter(name: str, convert: Callable[[StateDict], ConvertedCheckpoint], description: str,
                  argv: Optional[List[str]] = None) -> int:
    """Run converter ``name`` on the command line ``argv``; returns the exit status (0 or 1)."""
    parser = argparse.ArgumentParser(prog=f'{name}.py', description=description)
    parser.add_argument('src', help="the authors' checkpoint file")
    parser.add_argument('dst', help='the mmseg checkpoint to write')
    parser.add_argument('--config', help='check that the result loads strictly into this config (default: the '
                                         'repository config of the recognised architecture, if there is one)')
    args = parser.parse_args(argv)
    try:
        check_output_path(args.dst, inputs=(args.src,))
    except UserInputError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1

    print(f'[1/4] reading {args.src}')
    try:
        state_dict = extract_state_dict(load_checkpoint_file(args.src, what=f'{name} input'),
                                        what=f'{name} input {args.src!r}')
    except (FileNotFoundError, RuntimeError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'[2/4] converting {len(state_dict)} tensors')
    try:
        result = convert(state_dict)
    except UnsupportedCheckpointError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'      recognised: {result.architecture}; {len(result.state_dict)} tensors under mmseg keys')
    if result.dropped:
        print(f'      dropped {len(result.dropped)} unused or duplicate tensors: {summary_of_keys(result.dropped)}')
    if result.added:
        print(f'      added {len(result.added)} BN num_batches_tracked counters (0) the file lacks')

    if args.config:
        config = resolve_config(args.config)
        if config is None:
            print(f'error: --config {args.config!r} does not exist', file=sys.stderr)
            return 1
    else:
        config = next((found for found in map(resolve_config, result.configs) if found), None)
    if config:
        print(f'[3/4] checking that it loads strictly into {config}' + (' (backbone)' if result.backbone_only else ''))
        try:
            check_against_config(result, config)
        except CheckpointMismatchError as error:
            print(f'error: {error}', file=sys.stderr)
            return 1
    else:
        print('[3/4] no repository config for this architecture and number of classes: not checked '
              '(give one with --config)')

    print(f'[4/4] writing {args.dst}')
    meta = dict(converter=name, converted_from=osp.basename(args.src), architecture=result.architecture,
                config=result.configs[0] if result.configs else None, backbone_only=result.backbone_only,
                dropped_keys=result.dropped)
    converted = {'state_dict': dict(result.state_dict), 'meta': meta}
    write_atomically(args.dst, lambda temporary: torch.save(converted, temporary))
    if result.backbone_only:
        print(f"done: use it as the backbone's init_cfg=dict(type='Pretrained', checkpoint='{args.dst}')")
    else:
        print(f'done: load it with {result.configs[0] if result.configs else "a config of that architecture"}')
    return 0
