"""Cityscapes: write ``*_gtFine_labelTrainIds.png`` (19 train ids, 255 ignore) next to the official label ids.

    python tools/dataset_converters/cityscapes.py data/cityscapes [--nproc 8]

Expects the official ``gtFine_trainvaltest`` layout (``gtFine/{train,val,test}/CITY/*_gtFine_labelIds.png``) beside
``leftImg8bit/``. The id mapping is the official one of ``cityscapesscripts.helpers.labels``.
"""
import argparse
import glob
import os.path as osp

import numpy as np
from cityscapesscripts.helpers.labels import labels as CITYSCAPES_LABELS
from mmengine.utils import track_parallel_progress, track_progress
from PIL import Image

LABEL_IDS_SUFFIX = '_gtFine_labelIds.png'
TRAIN_IDS_SUFFIX = '_gtFine_labelTrainIds.png'


def label_id_to_train_id() -> np.ndarray:
    """A 256-entry lookup table: Cityscapes label id -> train id (255 for ignored classes)."""
    table = np.full(256, 255, np.uint8)
    for label in CITYSCAPES_LABELS:
        if 0 <= label.id < 256 and 0 <= label.trainId < 255:
            table[label.id] = label.trainId
    return table


TABLE = label_id_to_train_id()


def convert_file(label_ids_path: str) -> str:
    out = label_ids_path[:-len(LABEL_IDS_SUFFIX)] + TRAIN_IDS_SUFFIX
    Image.fromarray(TABLE[np.asarray(Image.open(label_ids_path))]).save(out)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('cityscapes_root')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    args = parser.parse_args()
    pattern = osp.join(args.cityscapes_root, 'gtFine', '*', '*', '*' + LABEL_IDS_SUFFIX)
    files = sorted(glob.glob(pattern))
    if not files:
        raise SystemExit(f'no {pattern!r} files: point the converter at the folder that holds gtFine/ and '
                         'leftImg8bit/ (the unpacked gtFine_trainvaltest.zip and leftImg8bit_trainvaltest.zip)')
    if args.nproc > 1:
        track_parallel_progress(convert_file, files, args.nproc)
    else:
        track_progress(convert_file, files)
    print(f'\nwrote {len(files)} *{TRAIN_IDS_SUFFIX} files under {args.cityscapes_root}/gtFine')


if __name__ == '__main__':
    main()
