"""Plot loss terms, learning rate and validation metrics of training runs into a PNG.

    python tools/analysis/plot_logs.py RUN [RUN ...] --keys KEY [KEY ...] [--out plot.png]

RUN is a training work dir (its ``*/vis_data/scalars.json``, written by mmengine) or a ``scalars.json``
file. KEYS are logged names: loss terms (``decode.loss_ce``, ``aux.loss_ce``, ``distill.loss_cwd``, the
total ``loss``), ``lr``, and validation metrics (``mIoU``, ``aAcc``, ``mAcc``). One panel per key; several
runs are overlaid, labelled by their folder names. The same scalars are in TensorBoard:
``tensorboard --logdir WORK_DIR``.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Optional, Sequence

from mmseg_kd.analysis.training_curves import plot_training_curves, read_scalars


def run_label(path: str) -> str:
    """How a run is named in the legend: its work dir's name."""
    path = osp.normpath(path)
    if osp.isfile(path):  # <work_dir>/<timestamp>/vis_data/scalars.json
        path = osp.dirname(osp.dirname(osp.dirname(path))) or path
    return osp.basename(osp.abspath(path))


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description='Plot chosen scalars of training runs into a PNG')
    parser.add_argument('runs', nargs='+', metavar='RUN', help='work dir or scalars.json of a run')
    parser.add_argument('--keys', nargs='+', required=True,
                        help='scalars to plot, e.g. distill.loss_cwd decode.loss_ce mIoU')
    parser.add_argument('--out', default='training_curves.png', help='output PNG (default: %(default)s)')
    args = parser.parse_args(argv)
    runs = {}
    for path in args.runs:
        label = run_label(path)
        while label in runs:
            label += "'"
        runs[label] = read_scalars(path)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    try:
        width, height = plot_training_curves(runs, args.keys, args.out)
    except KeyError as error:
        sys.exit(f'plot_logs.py: {error.args[0]}')
    print(f'{args.out}: {", ".join(args.keys)} of {", ".join(runs)} ({width}x{height})')


if __name__ == '__main__':
    main()
