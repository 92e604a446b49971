"""List the module paths a distillation can tap, with what a tap records and their inputs, and check a config's taps.

    python tools/analysis/list_taps.py CONFIG [--input-size H W] [--network student|teacher|both]
                                              [--filter SUBSTRING] [--depth N] [--cfg-options key=value ...]

For a distillation config (``model.type='SegDistiller'``) it lists the student's and the teacher's modules (the
shape a tap on each records, how it came about for transformer tokens and ``ModuleList`` stages, the indexed
elements of tuple and list outputs for ``index=``, and the first input), then checks every ``distill_losses``
entry: do its taps exist (else the closest paths), what shapes do they record, does the loss accept them, and
what the pair needs (a 1x1 conv connector when the channel counts differ, resizing when H×W differ). For any
other mmseg config it lists that model's modules. ``--filter`` and ``--depth`` narrow a long listing (a Swin
backbone alone has hundreds of modules); a listing of more than :data:`LONG_LISTING` lines says how. It says on
stderr what it is doing while it builds and runs the networks.

Shapes come from one eval-mode forward pass on a random input of ``--input-size`` (default: the distiller's
``tap_check_input_size``, else the size the config trains at, as the distiller's own check in ``tools/train.py``).
Weights do not change shapes, so no checkpoint is read: the teacher checkpoint need not exist yet. The exit status
is 1 when the check finds a problem, 0 otherwise.
"""
import argparse
import os.path as osp
import sys
from collections import Counter
from typing import List, Optional, Sequence

from mmengine.config import Config, DictAction

import mmseg_kd  # noqa: F401  (registers the distiller and the losses)
from mmseg_kd.analysis.distiller_networks import build_networks, network_configs
from mmseg_kd.analysis.module_shapes import ModuleShape, module_shapes
from mmseg_kd.checkpoint.download import cache_path, is_url
from mmseg_kd.distillers.distill_term import TermReport
from mmseg_kd.distillers.distillation_build import build_distillation
from mmseg_kd.distillers.seg_distiller import is_distiller_config
from mmseg_kd.engine.input_sizes import dry_run_size
from mmseg_kd.utils.config_keys import merge_checked_options
from mmseg_kd.utils.progress import announce_step

OUTPUT_COLUMN_WIDTH = 60  # longer outputs (lists, reasons) push that row's input further right
LONG_LISTING = 40  # modules in one listing beyond which it says how to narrow it


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(description='List tappable module paths with their output shapes and '
                                                 "check a distillation config's taps")
    parser.add_argument('config', help='distillation config, or any mmseg config')
    parser.add_argument('--input-size', nargs=2, type=int, metavar=('H', 'W'),
                        help="input height and width (default: the distiller's tap_check_input_size, else the size "
                             'the config trains at: the training crop, else data_preprocessor.size, else the first '
                             'training sample)')
    parser.add_argument('--network', choices=['student', 'teacher', 'both'], default='both',
                        help='whose modules to list (the check always uses both)')
    parser.add_argument('--filter', default='', metavar='SUBSTRING',
                        help='list only module paths containing SUBSTRING (case-insensitive)')
    parser.add_argument('--depth', type=positive_int, metavar='N',
                        help='list only modules at most N levels deep (backbone: 1, backbone.layer1: 2, ...)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.teacher.cfg_path=...')
    return parser.parse_args(argv)


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be 1 or more, got {value}')
    return value


def module_depth(path: str) -> int:
    """How deep a module path lies: ``backbone`` 1, ``backbone.layer1`` 2, ``backbone.layer1.0.conv1`` 4."""
    return path.count('.') + 1


def config_source(model_cfg: dict, role: str, config_path: str) -> str:
    """Where a network's config comes from, as a short path (or ``mmseg::`` reference)."""
    if role == 'model':
        return config_path
    cfg_path = model_cfg[role].get('cfg_path')
    if cfg_path is None:
        return 'the inline config'
    return cfg_path if '::' in cfg_path else osp.relpath(osp.normpath(cfg_path))


def output_text(row: ModuleShape) -> str:
    """What a tap on the module records (with how it came about), or what the module gives and why a tap
    without ``index`` records nothing."""
    if row.tappable:
        return str(row.output_shape) + (f', {row.converted_from}' if row.converted_from else '')
    if row.gives_several:
        return f'{row.output}  [tap one element with index=i]'
    return f'{row.output}  [not tappable: {row.why_not_tappable}]'


def module_table(walk: List[ModuleShape], substring: str, depth: Optional[int] = None) -> List[str]:
    """One line per module whose path contains ``substring`` and lies at most ``depth`` levels deep: path, class,
    output (what a tap records, or why not; the elements of a tuple or list, for ``index``) and first input (what
    ``record='input'`` records). A listing of more than :data:`LONG_LISTING` modules ends with how to narrow it."""
    matching = [shape for shape in walk if substring.lower() in shape.path.lower()]
    rows = [shape for shape in matching if depth is None or module_depth(shape.path) <= depth]
    if not rows:
        deeper = f' at most {depth} levels deep' if matching else ''
        return [f'  (no module path{deeper} contains {substring!r})']
    outputs = [output_text(row) for row in rows]
    width = max(len('module path'), *(len(row.path) for row in rows))
    type_width = max(len('type'), *(len(row.type_name) for row in rows))
    output_width = min(max(len('output'), *(len(output) for output in outputs)), OUTPUT_COLUMN_WIDTH)
    lines = [f"  {'module path':<{width}}  {'type':<{type_width}}  {'output':<{output_width}}  input"]
    for row, output in zip(rows, outputs):
        lines.append(f'  {row.path:<{width}}  {row.type_name:<{type_width}}  {output:<{output_width}}  {row.input}')
    if len(rows) < len(matching):
        lines.append(f'  ({len(matching) - len(rows)} module(s) deeper than --depth {depth} not listed)')
    if len(rows) > LONG_LISTING:
        lines += [f'  {len(rows)} modules listed; to narrow the list:'] + narrowing_hint(rows, matching, depth)
    return lines


def narrowing_hint(listed: List[ModuleShape], walk: List[ModuleShape], depth: Optional[int]) -> List[str]:
    """How to shorten a listing of ``listed`` (those of ``walk`` within ``depth``): a --filter on its largest top
    module, a smaller --depth."""
    tops = Counter(shape.path.split('.')[0] for shape in listed)
    largest = max(sorted(tops), key=tops.get)
    levels = ', '.join(f'--depth {level}: {sum(module_depth(shape.path) <= level for shape in walk)} modules'
                       for level in range(1, min(depth or 4, 4)))
    return [f'    --filter SUBSTRING lists the paths that contain it (e.g. --filter {largest}.: {tops[largest]} '
            'modules)',
            '    --depth N lists the modules at most N levels deep' + (f' ({levels})' if levels else '')]


def loss_report(check: TermReport) -> List[str]:
    """The lines that report one ``distill_losses`` entry."""
    lines = [f"  {check.name}: {check.loss_type}  {'OK' if check.ok else 'PROBLEM'}"]
    for role in ('student', 'teacher'):
        shape = check.shapes.get(role)
        lines.append(f"    {role}  {check.taps.get(role)}  {shape if shape is not None else '-'}")
    if check.connected_shape is not None:
        lines.append(f'    student after the connector  {check.connected_shape}')
    lines += [f'    problem: {text}' for text in check.problems]
    lines += [f'    fix: {text}' for text in check.fixes]
    lines += [f'    note: {text}' for text in check.notes]
    return lines


def report_check(model_cfg: dict, networks: dict, input_size: tuple) -> int:
    """Print the check of a distillation config (the distiller's own, see ``build_distillation``); returns the
    exit status (1 when there is a problem)."""
    print(f'\nChecking distill_losses for a {input_size[0]}x{input_size[1]} input:')
    configs = network_configs(model_cfg)
    with announce_step('checking the taps and losses (one forward pass of each network)'):
        checked = build_distillation(
            networks, model_cfg.get('distill_losses'), input_size,
            data_preprocessor=model_cfg.get('data_preprocessor') or configs['student'].get('data_preprocessor'),
            teacher_preprocessor=configs['teacher'].get('data_preprocessor'),
            connector_warmup=model_cfg.get('connector_warmup'))
    for recorder in checked.recorders.values():
        recorder.remove()
    report = checked.report
    for check in report.terms:
        print('\n'.join(loss_report(check)))
    for problem in report.problems:
        print(f'  problem: {problem}')
    checkpoint = model_cfg.teacher.get('checkpoint')
    if checkpoint is None:
        print("  note: teacher.checkpoint is None; training needs the teacher's trained weights.")
    elif is_url(checkpoint):
        cached = cache_path(checkpoint, model_cfg.teacher.get('checkpoint_cache_dir'))
        state = 'is in the download cache' if osp.isfile(cached) else 'will be downloaded when training starts'
        print(f'  note: teacher.checkpoint {checkpoint} {state} ({cached}).')
    elif not osp.isfile(checkpoint):
        print(f'  note: teacher.checkpoint {checkpoint!r} does not exist yet; training needs it.')
    if not report.ok:
        print(f'\n{report.problem_count} problem(s) found: fix them before training.')
        return 1
    print(f'\nAll {len(report.terms)} distillation loss(es) check out.')
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_checked_options(cfg, args.cfg_options)
    model_cfg = cfg.model
    roles = 'student and the teacher' if is_distiller_config(model_cfg) else 'model'
    try:
        if args.input_size:
            input_size, source = tuple(args.input_size), '--input-size'
        else:
            input_size, source = dry_run_size(cfg)
        print(f'input size {input_size[0]}x{input_size[1]} (from {source})', file=sys.stderr)
        with announce_step(f'building the {roles} with random weights'):
            networks = build_networks(model_cfg)
    except (FileNotFoundError, KeyError, ValueError) as error:  # a student/teacher config that cannot be built
        print(f'list_taps.py: cannot build the networks of {args.config}: {error}', file=sys.stderr)
        return 1
    shown = [role for role in networks if args.network in ('both', role) or role == 'model']
    walks = {}
    for role in shown:
        with announce_step(f'running the {role} once on a {input_size[0]}x{input_size[1]} input to describe its '
                           'modules'):
            walks[role] = module_shapes(networks[role], input_size)

    print(f'Shapes for one {input_size[0]}x{input_size[1]} image (batch 1), from an eval-mode forward pass with '
          'random weights: shapes do not depend on weights, so no checkpoint is read.')
    for role in shown:
        source = config_source(model_cfg, role, args.config)
        print(f'\n{role}: {type(networks[role]).__name__} from {source}')
        print('\n'.join(module_table(walks[role], args.filter, args.depth)))
    if not is_distiller_config(model_cfg):
        return 0
    return report_check(model_cfg, networks, input_size)


if __name__ == '__main__':
    sys.exit(main())
