"""One picture per image: input, ground truth, teacher and student predictions with a class legend, and
optionally what every distillation loss compares and the inter-class similarity matrices of teacher and student.

Layout (4 columns, each :data:`PANEL_PX` pixels wide; every row has a :data:`TITLE_PX` title band)::

    input          | ground truth        | teacher prediction | student prediction      image rows are
    class legend: the classes in the ground truth and the predictions, most pixels first  LEGEND_PX high
    loss_a student | loss_a teacher      | loss_b student     | loss_b teacher          PANEL_PX·H/W high
    teacher K×K       | student K×K       | |teacher − student|  (class names, colour bars) PANEL_PX high

Label maps are coloured with the dataset's palette by mmseg's ``SegLocalVisualizer``; ignored pixels
(labels outside the classes, e.g. 255) stay black. A loss's two panels show what the loss compares
(:func:`~mmseg_kd.analysis.compared_maps.compared_maps`: class probabilities, spatial distributions, attention
maps, relations, the connector's output), on one colour scale (its bar beside the teacher's panel, in a column
of its own). The picture size follows from the image's aspect ratio and the rows (:func:`figure_size_px`). Drawn
with matplotlib's object API (no pyplot state); PNGs are rendered by its Agg backend.
"""
import math
import textwrap
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from matplotlib.figure import Figure
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from mmseg_kd.analysis.class_legend import LEGEND_PX, draw_class_legend, legend_classes
from mmseg_kd.analysis.teacher_student_inference import TapMaps, TeacherStudentOutputs

COLUMNS = 4
PANEL_PX = 300
TITLE_PX = 50
MAX_CLASS_TICKS = 40  # similarity matrices of more classes name every n-th class only
BAR_WIDTH = 0.06  # a colour bar's width, relative to a panel's
BAR_GUTTER = 0.12  # room for a colour bar's tick labels, relative to a pair of panels
TITLE_WRAP = 46  # characters per line of what a tapped panel shows (fontsize 7 in a panel of about 250 px)
DPI = 100
MIN_ASPECT, MAX_ASPECT = 0.25, 2.0  # height / width of image panels, clamped for extreme images


def image_row_px(image_hw: Sequence[int]) -> int:
    """Height in pixels of a row of image panels (title band included)."""
    aspect = min(max(image_hw[0] / image_hw[1], MIN_ASPECT), MAX_ASPECT)
    return round(PANEL_PX * aspect) + TITLE_PX


def figure_size_px(image_hw: Sequence[int], num_tap_losses: int, similarity: bool) -> Tuple[int, int]:
    """(width, height) in pixels of the picture for an image of ``image_hw`` = (H, W).

    One row of predictions, the class legend, ⌈num_tap_losses / 2⌉ rows of tapped maps (two losses per row), and
    a square row for the similarity matrices.
    """
    rows = 1 + math.ceil(num_tap_losses / 2)
    height = rows * image_row_px(image_hw) + TITLE_PX + LEGEND_PX + (PANEL_PX + TITLE_PX if similarity else 0)
    return COLUMNS * PANEL_PX, height


def colour_label_map(image: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                     palette: Sequence[Sequence[int]]) -> np.ndarray:
    """(H, W, 3) uint8 picture of ``labels`` in the dataset's palette (mmseg's visualizer, opaque)."""
    visualizer = SegLocalVisualizer.get_instance('mmseg_kd_teacher_student_figure', alpha=1.0)
    visualizer.set_dataset_meta(classes=list(classes), palette=[list(c) for c in palette])
    sample = SegDataSample(pred_sem_seg=PixelData(data=torch.as_tensor(labels.astype(np.int64))[None]))
    visualizer.add_datasample('labels', image, sample, draw_gt=False, draw_pred=True, with_labels=False)
    return visualizer.get_image()


def pixel_accuracy(pred: np.ndarray, gt: np.ndarray, num_classes: int) -> float:
    """Percentage of labelled pixels (label < num_classes) that ``pred`` gets right."""
    labelled = gt < num_classes
    return 100.0 * float((pred[labelled] == gt[labelled]).mean()) if labelled.any() else float('nan')


def _empty_panel(axis, text: str) -> None:
    axis.text(0.5, 0.5, text, ha='center', va='center', fontsize=9, wrap=True)
    axis.set_axis_off()


def _draw_compared_pair(fig, student_axis, teacher_axis, bar_axis, maps: TapMaps) -> None:
    """The student's and the teacher's picture of what the loss compares, on one colour scale (its bar in
    ``bar_axis``)."""
    compared = maps.compared
    low = float(min(compared.student.min(), compared.teacher.min()))
    high = float(max(compared.student.max(), compared.teacher.max()))
    what = '\n'.join(textwrap.wrap(compared.what.replace('τ = ', 'τ\u00a0=\u00a0'), TITLE_WRAP))
    for axis, role, tap, tensor, picture in (
            (student_axis, 'student', maps.taps[0], maps.student, compared.student),
            (teacher_axis, 'teacher', maps.taps[1], maps.teacher, compared.teacher)):
        shape = '×'.join(str(size) for size in tensor.shape)
        shown = axis.imshow(picture, cmap='viridis', vmin=low, vmax=high if high > low else low + 1,
                            interpolation='nearest')
        if compared.marker is not None:
            axis.plot([compared.marker[1]], [compared.marker[0]], marker='+', color='red', markersize=10)
        heading = '\n'.join(textwrap.wrap(f'{maps.loss_name} {role}: {tap} ({shape})', TITLE_WRAP))
        axis.set_title(f'{heading}\n{what}', fontsize=7)
        axis.set_axis_off()
    colour_bar = fig.colorbar(shown, cax=bar_axis)
    colour_bar.ax.tick_params(labelsize=7)


def _draw_similarity(fig, axis, matrix: np.ndarray, title: str, vmin: float, vmax: float, cmap: str,
                     classes: Sequence[str]) -> None:
    shown = axis.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, interpolation='nearest')
    axis.set_title(title, fontsize=9)
    step = math.ceil(len(classes) / MAX_CLASS_TICKS)
    ticks = list(range(0, len(classes), step))
    axis.set_xticks(ticks, [classes[k] for k in ticks], rotation=90, fontsize=5)
    axis.set_yticks(ticks, [classes[k] for k in ticks], fontsize=5)
    axis.tick_params(length=0, pad=1)
    colour_bar = fig.colorbar(shown, ax=axis, fraction=0.046, pad=0.04)
    colour_bar.ax.tick_params(labelsize=7)


def teacher_student_figure(outputs: TeacherStudentOutputs, classes: Sequence[str],
                           palette: Sequence[Sequence[int]], taps: bool = False,
                           similarity: Optional[Tuple[torch.Tensor, torch.Tensor]] = None) -> Figure:
    """The picture of one image (see the module docstring), of :func:`figure_size_px` pixels at :data:`DPI`.

    Args:
        outputs: what :func:`run_teacher_and_student` returned for the image.
        classes, palette: the dataset's class names and RGB colours.
        taps: add the rows of what each distillation loss compares (two panels per loss).
        similarity: (teacher, student) inter-class similarity matrices (K, K), or None.
    """
    tap_maps = outputs.tap_maps if taps else []
    width, height = figure_size_px(outputs.image.shape[:2], len(tap_maps), similarity is not None)
    image_px = image_row_px(outputs.image.shape[:2]) - TITLE_PX
    panel_heights = [image_px, LEGEND_PX] + [image_px] * math.ceil(len(tap_maps) / 2)
    if similarity is not None:
        panel_heights.append(PANEL_PX)
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    # Each row: a title band of TITLE_PX above panels of panel_heights[row] pixels.
    grid = fig.add_gridspec(len(panel_heights), COLUMNS, height_ratios=panel_heights, left=0.01, right=0.99,
                            bottom=0.0, top=1 - TITLE_PX / height, wspace=0.05,
                            hspace=TITLE_PX / (sum(panel_heights) / len(panel_heights)))
    num_classes = len(classes)
    panels = [('input', outputs.image)]
    if outputs.gt is not None:
        panels.append(('ground truth', colour_label_map(outputs.image, outputs.gt, classes, palette)))
    else:
        panels.append(('ground truth', None))
    for name, pred in (('teacher', outputs.teacher_pred), ('student', outputs.student_pred)):
        title = f'{name} prediction'
        if outputs.gt is not None:
            title += f' ({pixel_accuracy(pred, outputs.gt, num_classes):.1f}% pixels right)'
        panels.append((title, colour_label_map(outputs.image, pred, classes, palette)))
    for column, (title, picture) in enumerate(panels):
        axis = fig.add_subplot(grid[0, column])
        if picture is None:
            _empty_panel(axis, 'no ground truth\n(image not in the config\'s datasets; give --gt)')
            continue
        axis.imshow(picture)
        axis.set_title(title, fontsize=9)
        axis.set_axis_off()
    label_maps = [labels for labels in (outputs.gt, outputs.teacher_pred, outputs.student_pred) if labels is not None]
    legend = fig.add_subplot(grid[1, :])
    legend.set_title('classes in the ground truth and the predictions (most pixels first)', fontsize=8, loc='left')
    draw_class_legend(legend, legend_classes(label_maps, num_classes), classes, palette)
    for index, maps in enumerate(tap_maps):
        # Two losses per row; each pair of panels has its colour bar in a narrow column of its own and a gutter
        # after it for the bar's tick labels, so no bar covers the next panel or leaves the picture.
        losses = grid[2 + index // 2, :].subgridspec(1, 4, wspace=0.0, width_ratios=(1, BAR_GUTTER, 1, BAR_GUTTER))
        pair = losses[0, 2 * (index % 2)].subgridspec(1, 3, wspace=0.05, width_ratios=(1, 1, BAR_WIDTH))
        _draw_compared_pair(fig, fig.add_subplot(pair[0]), fig.add_subplot(pair[1]), fig.add_subplot(pair[2]), maps)
    if similarity is not None:
        teacher, student = (matrix.float().cpu().numpy() for matrix in similarity)
        low, high = min(teacher.min(), student.min()), max(teacher.max(), student.max())
        difference = np.abs(teacher - student)
        # Three square panels across the row, spaced so that each one's class names and colour bar fit.
        row = grid[len(panel_heights) - 1, :].subgridspec(1, 5, wspace=0.6, width_ratios=(0.15, 1, 1, 1, 0.1))
        _draw_similarity(fig, fig.add_subplot(row[1]), teacher, 'teacher inter-class similarity', low, high,
                         'magma', classes)
        _draw_similarity(fig, fig.add_subplot(row[2]), student, 'student inter-class similarity', low, high,
                         'magma', classes)
        _draw_similarity(fig, fig.add_subplot(row[3]), difference, '|teacher − student|', 0.0,
                         float(difference.max()) or 1.0, 'viridis', classes)
    return fig


def draw_teacher_student_figure(outputs: TeacherStudentOutputs, classes: Sequence[str],
                                palette: Sequence[Sequence[int]], out_file: str, taps: bool = False,
                                similarity: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
                                ) -> Tuple[int, int]:
    """Draw :func:`teacher_student_figure` into the PNG ``out_file``; returns its (width, height) in pixels."""
    teacher_student_figure(outputs, classes, palette, taps, similarity).savefig(out_file, dpi=DPI)
    return figure_size_px(outputs.image.shape[:2], len(outputs.tap_maps) if taps else 0, similarity is not None)
