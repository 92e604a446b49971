"""A labeled subset of a Cityscapes-layout training set, and the rest as unlabeled images, as mmseg list files.

Semi-supervised segmentation keeps a few labeled images and treats the others as unlabeled (for Cityscapes the
usual lists hold 1/30 to 1/4 of the 2975 training images). :func:`write_label_split` draws ``num_labeled`` training
images at random (seeded) and writes::

    ROOT/splits/N/labeled.txt     the N labeled images
    ROOT/splits/N/unlabeled.txt   all other training images

one image per line, as mmseg's ``ann_file`` expects: the path below ``leftImg8bit/train`` without the
``_leftImg8bit.png`` suffix (``aachen/aachen_000000_000008``). A dataset with ``ann_file='splits/8/labeled.txt'``
and ``seg_map_path`` reads the labeled subset; one with ``ann_file='splits/8/unlabeled.txt'``, no ``seg_map_path``
and :class:`~mmseg_kd.datasets.ignored_label_map.AddIgnoredLabelMap` in its pipeline reads the rest without labels.
"""
import os
import os.path as osp
from typing import Tuple

import numpy as np

from mmseg_kd.utils.user_input_error import UserInputError

IMAGE_SUFFIX = '_leftImg8bit.png'


def training_image_names(root: str) -> list:
    """Every training image of ``root`` as its list-file line (sorted)."""
    image_dir = osp.join(root, 'leftImg8bit', 'train')
    return sorted(osp.relpath(osp.join(folder, name), image_dir)[:-len(IMAGE_SUFFIX)]
                  for folder, _, names in os.walk(image_dir) for name in names if name.endswith(IMAGE_SUFFIX))


def split_paths(root: str, num_labeled: int) -> Tuple[str, str]:
    """(labeled list, unlabeled list) of the split with ``num_labeled`` labeled images, relative to ``root``."""
    folder = osp.join('splits', str(num_labeled))
    return osp.join(folder, 'labeled.txt'), osp.join(folder, 'unlabeled.txt')


def write_label_split(root: str, num_labeled: int, seed: int = 0) -> Tuple[str, str]:
    """Draw ``num_labeled`` labeled training images of ``root`` (the same ones for the same arguments and images),
    write the two lists and return their paths relative to ``root``."""
    names = training_image_names(root)
    if not 1 <= num_labeled < len(names):
        raise UserInputError(f'num_labeled must be between 1 and {len(names) - 1} (the {len(names)} training images of '
                             f'{root} minus at least one unlabeled), got {num_labeled}')
    chosen = set(np.random.default_rng(seed).choice(len(names), num_labeled, replace=False).tolist())
    paths = split_paths(root, num_labeled)
    os.makedirs(osp.join(root, osp.dirname(paths[0])), exist_ok=True)
    for path, keep in zip(paths, (True, False)):
        with open(osp.join(root, path), 'w') as file:
            file.write(''.join(f'{name}\n' for index, name in enumerate(names) if (index in chosen) == keep))
    return paths
