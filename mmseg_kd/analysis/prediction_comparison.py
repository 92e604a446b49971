"""A grid comparing several models' predictions on the same images (the demo's picture).

Layout: one row per image; columns input | ground truth | one column per model, each prediction titled with the
model's name and its pixel accuracy on that image. Label maps use the dataset palette (mmseg's visualizer).
"""
from typing import Dict, List, Sequence

import numpy as np
from matplotlib.figure import Figure

from mmseg_kd.analysis.teacher_student_figure import PANEL_PX, colour_label_map, image_row_px, pixel_accuracy

DPI = 100


def draw_prediction_comparison(images: Sequence[np.ndarray], ground_truths: Sequence[np.ndarray],
                               predictions: Dict[str, List[np.ndarray]], classes: Sequence[str],
                               palette: Sequence[Sequence[int]], out_file: str) -> None:
    """Save the grid as a PNG of width (2 + len(predictions)) · PANEL_PX.

    Args:
        images: (H, W, 3) uint8 RGB images.
        ground_truths: (H, W) label maps (255 = ignored).
        predictions: model name -> one (H, W) label map per image.
    """
    columns = 2 + len(predictions)
    row_px = image_row_px(images[0].shape[:2])
    figure = Figure(figsize=(columns * PANEL_PX / DPI, len(images) * row_px / DPI), dpi=DPI)
    for row, (image, truth) in enumerate(zip(images, ground_truths)):
        panels = [('input', image), ('ground truth', colour_label_map(image, truth, classes, palette))]
        for name, maps in predictions.items():
            accuracy = pixel_accuracy(maps[row], truth, len(classes))
            panels.append((f'{name}\n{accuracy:.1f}% pixels right',
                           colour_label_map(image, maps[row], classes, palette)))
        for column, (title, picture) in enumerate(panels):
            axis = figure.add_subplot(len(images), columns, row * columns + column + 1)
            axis.imshow(picture)
            axis.set_title(title, fontsize=9)
            axis.axis('off')
    figure.tight_layout()
    figure.savefig(out_file, dpi=DPI)
