"""Pascal VOC 2012 + SBD augmentation ("trainaug", 10,582 images): the layout of mmseg's ``voc12aug`` configs.

    python tools/dataset_converters/voc_aug.py data/VOCdevkit data/VOCdevkit/VOCaug [--nproc 8]

Inputs: ``VOCdevkit/VOC2012`` (JPEGImages, SegmentationClass, ImageSets/Segmentation/{train,val}.txt) and the
unpacked SBD ``benchmark_RELEASE`` (``dataset/cls/*.mat`` and ``dataset/{train,val}.txt``). Writes:

* ``VOC2012/SegmentationClassAug/ID.png``: SBD's class masks as PNGs (values 0..20);
* ``VOC2012/ImageSets/Segmentation/aug.txt``: SBD train + val images that are in neither VOC train nor VOC val.

The configs train on ``train.txt`` (VOC masks) + ``aug.txt`` (SBD masks): VOC train ∪ SBD − VOC val, each image
once, and validate on VOC's ``val.txt``.
"""
import argparse
import os
import os.path as osp
from functools import partial

import numpy as np
from mmengine.utils import track_parallel_progress, track_progress
from PIL import Image
from scipy.io import loadmat


def read_ids(path: str) -> list:
    if not osp.isfile(path):
        raise SystemExit(f'{path} is missing: is the folder an unpacked VOC2012 / SBD benchmark_RELEASE?')
    with open(path) as file:
        return [line.strip() for line in file if line.strip()]


def sbd_mask(mat_path: str) -> np.ndarray:
    """The class mask of an SBD ``cls/*.mat`` file (struct ``GTcls``, field ``Segmentation``)."""
    return np.asarray(loadmat(mat_path)['GTcls'][0]['Segmentation'][0], np.uint8)


def convert_one(image_id: str, sbd_dataset: str, out_dir: str) -> None:
    Image.fromarray(sbd_mask(osp.join(sbd_dataset, 'cls', f'{image_id}.mat'))).save(
        osp.join(out_dir, f'{image_id}.png'))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('devkit_path', help='folder holding VOC2012/')
    parser.add_argument('aug_path', help='folder holding the unpacked SBD (benchmark_RELEASE/)')
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args()
    voc = osp.join(args.devkit_path, 'VOC2012')
    sbd = osp.join(args.aug_path, 'benchmark_RELEASE', 'dataset')
    lists = osp.join(voc, 'ImageSets', 'Segmentation')
    voc_train, voc_val = read_ids(osp.join(lists, 'train.txt')), read_ids(osp.join(lists, 'val.txt'))
    sbd_ids = sorted(set(read_ids(osp.join(sbd, 'train.txt')) + read_ids(osp.join(sbd, 'val.txt'))))
    missing = [i for i in sbd_ids if not osp.isfile(osp.join(voc, 'JPEGImages', f'{i}.jpg'))]
    if missing:
        raise SystemExit(f'{len(missing)} SBD images have no VOC2012/JPEGImages/ID.jpg (e.g. {missing[:3]}); '
                         'use the VOC2012 trainval images')
    out_dir = osp.join(voc, 'SegmentationClassAug')
    os.makedirs(out_dir, exist_ok=True)
    convert = partial(convert_one, sbd_dataset=sbd, out_dir=out_dir)
    if args.nproc > 1:
        track_parallel_progress(convert, sbd_ids, args.nproc)
    else:
        track_progress(convert, sbd_ids)
    aug = sorted(set(sbd_ids) - set(voc_train) - set(voc_val))
    with open(osp.join(lists, 'aug.txt'), 'w') as file:
        file.write('\n'.join(aug) + '\n')
    print(f'\n{len(sbd_ids)} SBD masks written to {out_dir}; aug.txt lists {len(aug)} images, so train.txt + '
          f'aug.txt = {len(voc_train) + len(aug)} training images')


if __name__ == '__main__':
    main()
