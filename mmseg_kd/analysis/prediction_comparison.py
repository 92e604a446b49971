"""A grid comparing several models' predictions on the same images (the demo's picture).

Layout: one row per image; columns input | ground truth | one column per model, each prediction titled with the
model's name and its pixel accuracy on that image; below the rows, a legend of the classes that the ground truths
and the predictions show. Label maps use the dataset palette (mmseg's visualizer). Every panel sits at a fixed
place in pixels (:data:`PANEL_PX` wide columns, a :data:`TITLE_PX` title band above each row).
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np
from matplotlib.figure import Figure

from mmseg_kd.analysis.class_legend import LEGEND_PX, draw_class_legend, legend_classes
from mmseg_kd.analysis.teacher_student_figure import PANEL_PX, TITLE_PX, colour_label_map, image_row_px, pixel_accuracy

DPI = 100
GAP_PX = 10  # between neighbouring panels


def comparison_size_px(image_hw: Sequence[int], num_images: int, num_models: int) -> Tuple[int, int]:
    """(width, height) in pixels of the grid of ``num_images`` images of ``image_hw`` = (H, W) and its legend."""
    return (2 + num_models) * PANEL_PX, num_images * image_row_px(image_hw) + TITLE_PX + LEGEND_PX


def prediction_comparison_figure(images: Sequence[np.ndarray], ground_truths: Sequence[np.ndarray],
                                 predictions: Dict[str, List[np.ndarray]], classes: Sequence[str],
                                 palette: Sequence[Sequence[int]]) -> Figure:
    """The grid and its legend, of :func:`comparison_size_px` pixels at :data:`DPI`; its last axis is the legend.

    Args:
        images: (H, W, 3) uint8 RGB images.
        ground_truths: (H, W) label maps (255 = ignored).
        predictions: model name -> one (H, W) label map per image.
        classes, palette: the dataset's class names and RGB colours.
    """
    width, height = comparison_size_px(images[0].shape[:2], len(images), len(predictions))
    row_px = image_row_px(images[0].shape[:2])
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)

    def axes_at(left_px: float, top_px: float, width_px: float, height_px: float):
        return figure.add_axes((left_px / width, 1 - (top_px + height_px) / height, width_px / width,
                                height_px / height))

    for row, (image, truth) in enumerate(zip(images, ground_truths)):
        panels = [('input', image), ('ground truth', colour_label_map(image, truth, classes, palette))]
        for name, maps in predictions.items():
            accuracy = pixel_accuracy(maps[row], truth, len(classes))
            panels.append((f'{name}\n{accuracy:.1f}% pixels right',
                           colour_label_map(image, maps[row], classes, palette)))
        for column, (title, picture) in enumerate(panels):
            axis = axes_at(column * PANEL_PX + GAP_PX / 2, row * row_px + TITLE_PX, PANEL_PX - GAP_PX,
                           row_px - TITLE_PX)
            axis.imshow(picture)
            axis.set_title(title, fontsize=9)
            axis.axis('off')
    label_maps = list(ground_truths) + [labels for maps in predictions.values() for labels in maps]
    legend = axes_at(GAP_PX / 2, len(images) * row_px + TITLE_PX, width - GAP_PX, LEGEND_PX)
    legend.set_title('classes in the ground truths and the predictions (most pixels first)', fontsize=8, loc='left')
    draw_class_legend(legend, legend_classes(label_maps, len(classes)), classes, palette)
    return figure


def draw_prediction_comparison(images: Sequence[np.ndarray], ground_truths: Sequence[np.ndarray],
                               predictions: Dict[str, List[np.ndarray]], classes: Sequence[str],
                               palette: Sequence[Sequence[int]], out_file: str) -> None:
    """Save :func:`prediction_comparison_figure` as the PNG ``out_file``."""
    prediction_comparison_figure(images, ground_truths, predictions, classes, palette).savefig(out_file, dpi=DPI)
