"""Training curves from mmengine's scalar logs: chosen loss terms, learning rate and validation metrics.

mmengine's ``LocalVisBackend`` writes one JSON record per logged step to
``<work_dir>/<timestamp>/vis_data/scalars.json``: training records hold the losses
(``decode.loss_ce``, ``distill.loss_cwd``, ...), ``lr`` and ``iter``; validation records hold the metrics
(``mIoU``, ``aAcc``, ...); all carry ``step``, the training iteration. A resumed run starts a new timestamp
folder, so a work dir's logs are read in timestamp order and joined.

Pictures: one panel per key, stacked, sharing the iteration axis; :data:`WIDTH_PX` wide and
:data:`PANEL_HEIGHT_PX` high per key. Several runs (e.g. distilled and student alone) are drawn into the
same panels, one colour per run.
"""
import difflib
import glob
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Sequence, Tuple

from matplotlib.figure import Figure

WIDTH_PX = 800
PANEL_HEIGHT_PX = 250
DPI = 100

Series = Dict[str, List[Tuple[float, float]]]  # key -> [(step, value), ...]


def scalar_log_files(path: str) -> List[str]:
    """The ``scalars.json`` files of a work dir (timestamp order), or ``[path]`` for a file."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path} is neither a work dir nor a scalars.json file')
    files = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json'))) or \
        sorted(glob.glob(osp.join(path, 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'no */vis_data/scalars.json under {path}: is it the --work-dir of a training run? (mmengine writes '
            "the file when the config's visualizer has a LocalVisBackend, as mmseg's default runtime does)")
    return files


def read_scalars(path: str) -> Series:
    """Every scalar of a run as ``{key: [(step, value), ...]}`` (work dir or ``scalars.json``)."""
    series: Series = defaultdict(list)
    for file in scalar_log_files(path):
        with open(file) as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f'{file}:{number} is not a JSON record ({error})') from None
                step = record.get('step', record.get('iter'))
                for key, value in record.items():
                    if key not in ('step', 'iter') and isinstance(value, (int, float)):
                        series[key].append((step, float(value)))
    return dict(series)


def check_keys(runs: Dict[str, Series], keys: Sequence[str]) -> None:
    """Every key must be logged by at least one run; else name the closest logged keys."""
    logged = sorted({key for series in runs.values() for key in series})
    for key in keys:
        if not any(key in series for series in runs.values()):
            close = difflib.get_close_matches(key, logged, n=3, cutoff=0.4)
            hint = f"Did you mean {', '.join(close)}? " if close else ''
            raise KeyError(f'{key!r} is not in the log. {hint}Logged keys: {", ".join(logged)}')


def plot_training_curves(runs: Dict[str, Series], keys: Sequence[str], out_file: str) -> Tuple[int, int]:
    """Draw ``keys`` of every run (``{label: series}``) into the PNG ``out_file``; returns (width, height) px."""
    check_keys(runs, keys)
    width, height = WIDTH_PX, PANEL_HEIGHT_PX * len(keys)
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout='constrained')
    axes = fig.subplots(len(keys), 1, sharex=True, squeeze=False)[:, 0]
    for axis, key in zip(axes, keys):
        for label, series in runs.items():
            points = series.get(key)
            if not points:
                continue
            steps, values = zip(*points)
            axis.plot(steps, values, marker='o' if len(points) < 20 else None, markersize=4, label=label)
        axis.set_ylabel(key, fontsize=9)
        axis.grid(alpha=0.3)
        if len(runs) > 1:
            axis.legend(fontsize=8)
    axes[-1].set_xlabel('iteration')
    fig.savefig(out_file, dpi=DPI)
    return width, height
