"""Every GPU figure of docs/benchmarks.md in one run of a few minutes, ready for the day a GPU machine is at hand.

    python tools/analysis/gpu_report.py [--out-dir work_dirs/gpu_report] [--device cuda] [--compile]
                                        [--compile-backend inductor] [--budget-s 450] [--tiny]
                                        [--cases cwd kd cirkd]

On the device it finds (CUDA when torch sees one), after checking that mmcv's compiled ops run there
(``mmseg_kd/analysis/mmcv_ops_check.py``; the fix when they do not: docs/gpu_report.md), it runs:

* ``tools/analysis/benchmark.py`` on the CWD and pixel-KD PSPNet-R101 → PSPNet-R18 steps and the CIRKD-protocol
  DeepLabV3-R101 → DeepLabV3-R18 step at 512x1024, batch 2, with the teacher in float32, under bfloat16 autocast
  and in channels_last memory format (student step, teacher forward, distillation step, overhead ratio, peak
  memory);
* one short ``tools/train.py --amp`` training run of the CWD demo distillation on generated street scenes;
* with ``--compile``, the three steps again with the teacher ``torch.compile``'d (the first call, compilation
  included, in its own column).

It writes ``OUT_DIR/gpu_report.json`` (every measurement, after each part) and ``OUT_DIR/gpu_report.md`` (the
section for docs/benchmarks.md). No part starts after ``--budget-s`` seconds. ``--device cpu --tiny`` runs the same
parts at 32x64 with 2 timed rounds (no warm-up) and 2 training steps (no ``--amp``: mmengine's AMP needs a GPU), as
the tests do. Exit status 1 when a part failed. Expected costs and the set-up of an offline GPU machine:
docs/gpu_report.md.
"""
import argparse
import importlib.util
import os
import os.path as osp
import platform
import sys
import time

START = time.perf_counter()  # the budget counts from here: imports and the mmcv check included

import torch  # noqa: E402

try:  # before mmseg_kd, whose import already needs mmcv's compiled ops (mmseg's heads import them)
    import mmcv.ops  # noqa: F401
except (ImportError, OSError) as error:
    sys.exit(f'==== gpu_report.py stopped: mmcv with compiled ops is not importable here (torch {torch.__version__}): '
             f'{type(error).__name__}: {error}\nInstall the mmcv 2.1.0 wheel built with ops for this Python, torch '
             'and CUDA: how to build and carry it is in docs/gpu_report.md ("mmcv on the GPU machine").')

import mmseg_kd  # noqa: E402,F401
from mmseg_kd.analysis.gpu_report import BENCHMARK_CASES, JSON_FILE, TABLE_FILE, GpuReport, failed_parts  # noqa: E402
from mmseg_kd.analysis.mmcv_ops_check import check_mmcv_ops  # noqa: E402
from mmseg_kd.engine.tool_errors import run_tool  # noqa: E402
from mmseg_kd.utils.user_input_error import UserInputError  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--out-dir', default='work_dirs/gpu_report')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--tiny', action='store_true', help='32x64 inputs, 2 timed rounds, 2 training steps')
    parser.add_argument('--compile', action='store_true', help="also time the teacher torch.compile'd (slow start)")
    parser.add_argument('--compile-backend', default='inductor',
                        help="torch.compile backend of --compile ('eager' traces without generating code)")
    parser.add_argument('--cases', nargs='+', choices=[case['key'] for case in BENCHMARK_CASES],
                        default=[case['key'] for case in BENCHMARK_CASES],
                        help='the benchmarked steps: cwd, kd (PSPNet-R101 -> R18), cirkd (DeepLabV3-R101 -> R18)')
    parser.add_argument('--budget-s', type=float, default=450.0,
                        help='seconds from the start within which each part must start and, as the parts of its kind '
                             'so far tell, end (default 450: the run ends within 8 minutes)')
    return parser.parse_args(argv)


def load_benchmark_main():
    """``main`` of tools/analysis/benchmark.py (a script, not a module of the package)."""
    spec = importlib.util.spec_from_file_location('benchmark', osp.join(REPO, 'tools/analysis/benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def environment(args, mmcv_cuda: str) -> dict:
    import mmcv
    import mmengine
    import mmseg
    cuda = args.device.startswith('cuda')
    return dict(command='python tools/analysis/gpu_report.py ' + ' '.join(sys.argv[1:]), device=args.device,
                device_name=torch.cuda.get_device_name() if cuda else f'CPU, {os.cpu_count()} cores',
                python=platform.python_version(), torch=torch.__version__, cuda=torch.version.cuda if cuda else None,
                mmcv=mmcv.__version__, mmcv_cuda=mmcv_cuda, mmengine=mmengine.__version__,
                mmseg=mmseg.__version__)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise UserInputError(f'--device {args.device}, but torch {torch.__version__} sees no CUDA device '
                             f'(torch.version.cuda={torch.version.cuda}): install a CUDA build of torch, or run '
                             'with --device cpu --tiny to check the script on the CPU.')
    mmcv_cuda = check_mmcv_ops(args.device)
    os.makedirs(args.out_dir, exist_ok=True)
    report = GpuReport(REPO, args.out_dir, args.device, args.tiny, args.compile_backend if args.compile else None,
                       args.budget_s, load_benchmark_main(), environment(args, mmcv_cuda), args.cases,
                       START).run()
    print(f"\n{open(osp.join(args.out_dir, TABLE_FILE)).read()}\nreport: {osp.join(args.out_dir, JSON_FILE)} "
          f"({report['total_seconds']:.0f} s)")
    failed = failed_parts(report)
    for part in failed:
        print(f"FAILED: {part['name']} ({part.get('teacher', part['kind'])}): "
              f"{part.get('error') or part['result'].get('output_tail')}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    run_tool(lambda: sys.exit(main()))
