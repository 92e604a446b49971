"""One picture per image: input, ground truth, teacher and student predictions, and optionally the tapped
maps of every distillation loss and the inter-class similarity matrices of teacher and student.

Layout (4 columns, each :data:`PANEL_PX` pixels wide; every row has a :data:`TITLE_PX` title band)::

    input          | ground truth        | teacher prediction | student prediction      image rows are
    loss_a student | loss_a teacher      | loss_b student     | loss_b teacher          PANEL_PX·H/W high
    teacher K×K       | student K×K       | |teacher − student|  (with colour bars)      PANEL_PX high

Label maps are coloured with the dataset's palette by mmseg's ``SegLocalVisualizer``; ignored pixels
(labels outside the classes, e.g. 255) stay black. A tapped (C, h, w) tensor is drawn as its mean over
channels. The picture size follows from the image's aspect ratio and the rows (:func:`figure_size_px`).
Drawn with matplotlib's object API (no pyplot state); PNGs are rendered by its Agg backend.
"""
import math
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from matplotlib.figure import Figure
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from mmseg_kd.analysis.teacher_student_inference import TapMaps, TeacherStudentOutputs

COLUMNS = 4
PANEL_PX = 300
TITLE_PX = 50
DPI = 100
MIN_ASPECT, MAX_ASPECT = 0.25, 2.0  # height / width of image panels, clamped for extreme images


def image_row_px(image_hw: Sequence[int]) -> int:
    """Height in pixels of a row of image panels (title band included)."""
    aspect = min(max(image_hw[0] / image_hw[1], MIN_ASPECT), MAX_ASPECT)
    return round(PANEL_PX * aspect) + TITLE_PX


def figure_size_px(image_hw: Sequence[int], num_tap_losses: int, similarity: bool) -> Tuple[int, int]:
    """(width, height) in pixels of the picture for an image of ``image_hw`` = (H, W).

    One row of predictions, ⌈num_tap_losses / 2⌉ rows of tapped maps (two losses per row), and a square
    row for the similarity matrices.
    """
    rows = 1 + math.ceil(num_tap_losses / 2)
    height = rows * image_row_px(image_hw) + (PANEL_PX + TITLE_PX if similarity else 0)
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


def channel_mean(tensor: torch.Tensor) -> Optional[np.ndarray]:
    """(h, w) mean over channels of a (C, h, w) map; None for tensors of other ranks."""
    return tensor.float().mean(0).cpu().numpy() if tensor.dim() == 3 else None


def _empty_panel(axis, text: str) -> None:
    axis.text(0.5, 0.5, text, ha='center', va='center', fontsize=9, wrap=True)
    axis.set_axis_off()


def _draw_tap_map(axis, maps: TapMaps, role: str) -> None:
    tensor = maps.student if role == 'student' else maps.teacher
    tap = maps.taps[0] if role == 'student' else maps.taps[1]
    heat = channel_mean(tensor)
    shape = '×'.join(str(size) for size in tensor.shape)
    if heat is None:
        _empty_panel(axis, f'{maps.loss_name} {role}\n{tap}: {shape}, not a (C, h, w) map')
        return
    axis.imshow(heat, cmap='viridis', interpolation='nearest')
    axis.set_title(f'{maps.loss_name} {role}: {tap}\n{shape}, mean over channels', fontsize=8)
    axis.set_axis_off()


def _draw_similarity(fig, axis, matrix: np.ndarray, title: str, vmin: float, vmax: float, cmap: str) -> None:
    shown = axis.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, interpolation='nearest')
    axis.set_title(title, fontsize=9)
    axis.set_xticks([])
    axis.set_yticks([])
    colour_bar = fig.colorbar(shown, ax=axis, fraction=0.046, pad=0.04)
    colour_bar.ax.tick_params(labelsize=7)


def draw_teacher_student_figure(outputs: TeacherStudentOutputs, classes: Sequence[str],
                                palette: Sequence[Sequence[int]], out_file: str, taps: bool = False,
                                similarity: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
                                ) -> Tuple[int, int]:
    """Draw the picture of one image into the PNG ``out_file``; returns its (width, height) in pixels.

    Args:
        outputs: what :func:`run_teacher_and_student` returned for the image.
        classes, palette: the dataset's class names and RGB colours.
        out_file: the PNG to write.
        taps: add the rows of tapped maps (one pair of panels per distillation loss).
        similarity: (teacher, student) inter-class similarity matrices (K, K), or None.
    """
    tap_maps = outputs.tap_maps if taps else []
    width, height = figure_size_px(outputs.image.shape[:2], len(tap_maps), similarity is not None)
    panel_heights = [image_row_px(outputs.image.shape[:2]) - TITLE_PX] * (1 + math.ceil(len(tap_maps) / 2))
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
    for index, maps in enumerate(tap_maps):
        row, column = 1 + index // 2, 2 * (index % 2)
        _draw_tap_map(fig.add_subplot(grid[row, column]), maps, 'student')
        _draw_tap_map(fig.add_subplot(grid[row, column + 1]), maps, 'teacher')
    if similarity is not None:
        teacher, student = (matrix.float().cpu().numpy() for matrix in similarity)
        low, high = min(teacher.min(), student.min()), max(teacher.max(), student.max())
        difference = np.abs(teacher - student)
        # Three square panels across the row, spaced so that each one's colour bar fits beside it.
        row = grid[len(panel_heights) - 1, :].subgridspec(1, 4, wspace=0.45, width_ratios=(1, 1, 1, 0.12))
        _draw_similarity(fig, fig.add_subplot(row[0]), teacher, 'teacher inter-class similarity', low, high,
                         'magma')
        _draw_similarity(fig, fig.add_subplot(row[1]), student, 'student inter-class similarity', low, high,
                         'magma')
        _draw_similarity(fig, fig.add_subplot(row[2]), difference, '|teacher − student|', 0.0,
                         float(difference.max()) or 1.0, 'viridis')
    fig.savefig(out_file, dpi=DPI)
    return width, height
