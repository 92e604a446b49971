"""Write (image, label map) pairs as PNG files with a progress bar.

Shared by everything that puts a dataset on disk: the procedural demo scenes
(:mod:`mmseg_kd.datasets.procedural_cityscapes`) and dataset converters. A writer describes each pair
with the paths its layout needs and hands a (lazy) iterable of pairs to :func:`write_image_label_pairs`;
creating folders, saving and reporting progress happen here, once::

    pairs = (ImageLabelPair(f'{out}/images/{n}.png', load_image(n), f'{out}/labels/{n}.png', convert(n))
             for n in names)
    write_image_label_pairs(pairs, total=len(names), description=f'converting {len(names)} images')
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from PIL import Image

from mmseg_kd.utils.progress import track_progress


@dataclass(frozen=True)
class ImageLabelPair:
    """One training sample on its way to disk.

    Attributes:
        image_path: where the image goes (``.png``).
        image: (H, W, 3) uint8 RGB image.
        label_path: where the label map goes (``.png``).
        label: (H, W) uint8 label map (class ids, 255 for ignored pixels in mmseg's convention).
    """
    image_path: str
    image: np.ndarray
    label_path: str
    label: np.ndarray


def write_image_label_pairs(pairs: Iterable[ImageLabelPair], total: int, description: str,
                            progress: bool = True) -> int:
    """Save every pair (creating folders as needed) and return how many were written.

    Args:
        pairs: the pairs; a generator lets the progress bar include the time spent producing each.
        total: the number of pairs, for the progress bar.
        description: the line printed above the progress bar.
        progress: draw the progress bar (mmengine's) on stdout.
    """
    written = 0
    for pair in track_progress(pairs, total, description, enabled=progress):
        if pair.image.shape[:2] != pair.label.shape:
            raise ValueError(f'{pair.label_path}: label map {pair.label.shape} does not match its image '
                             f'{pair.image.shape[:2]} ({pair.image_path})')
        for path, array in ((pair.image_path, pair.image), (pair.label_path, pair.label)):
            os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
            Image.fromarray(array).save(path)
        written += 1
    return written
