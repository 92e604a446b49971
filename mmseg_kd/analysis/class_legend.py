"""A class legend under pictures of label maps: a colour square and the name of every class they show.

The classes present in a set of label maps (ground truth, predictions) are listed most pixels first, row by row in
:data:`LEGEND_ROWS` rows of :data:`LEGEND_COLUMNS`, in an axis :data:`LEGEND_PX` pixels high.
"""
from typing import List, Sequence, Tuple

import numpy as np

LEGEND_PX = 50  # the legend's row (below its own title band): LEGEND_ROWS lines of classes
LEGEND_ROWS, LEGEND_COLUMNS = 3, 7


def legend_classes(label_maps: Sequence[np.ndarray], num_classes: int) -> List[Tuple[int, int]]:
    """``[(class, pixels), ...]`` of the classes present in ``label_maps`` (ground truth, predictions), most pixels
    first (ties: lower class first); labels outside the classes (ignored pixels) are left out."""
    counts = sum(np.bincount(labels[labels < num_classes].ravel(), minlength=num_classes) for labels in label_maps)
    return [(int(k), int(counts[k])) for k in sorted(np.flatnonzero(counts), key=lambda k: (-counts[k], k))]


def draw_class_legend(axis, present: List[Tuple[int, int]], classes: Sequence[str],
                      palette: Sequence[Sequence[int]]) -> None:
    """Colour squares and names of the ``present`` classes, row by row; ``+N more`` when they do not fit."""
    axis.set_axis_off()
    slots = LEGEND_ROWS * LEGEND_COLUMNS
    shown = present if len(present) <= slots else present[:slots - 1]
    for slot, (k, _) in enumerate(shown):
        row, column = divmod(slot, LEGEND_COLUMNS)
        x, y = column / LEGEND_COLUMNS, 1 - (row + 0.5) / LEGEND_ROWS
        axis.scatter([x + 0.01], [y], s=40, marker='s', color=np.asarray(palette[k]) / 255, edgecolors='black',
                     linewidths=0.3, transform=axis.transAxes, clip_on=False)
        axis.text(x + 0.025, y, classes[k], va='center', fontsize=7, transform=axis.transAxes)
    if len(shown) < len(present):
        row, column = divmod(slots - 1, LEGEND_COLUMNS)
        axis.text(column / LEGEND_COLUMNS, 1 - (row + 0.5) / LEGEND_ROWS, f'+{len(present) - len(shown)} more',
                  va='center', fontsize=7, transform=axis.transAxes)
