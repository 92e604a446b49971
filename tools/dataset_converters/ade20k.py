"""ADE20K (SceneParsing, 150 classes): unpack ``ADEChallengeData2016.zip`` into the layout of the ade20k configs.

    python tools/dataset_converters/ade20k.py ADEChallengeData2016.zip data/ade

Writes ``data/ade/ADEChallengeData2016/{images,annotations}/{training,validation}/`` and checks that every image has
its annotation (values 0..150, 0 = "other", which mmseg's ``reduce_zero_label`` turns into the ignore index).
"""
import argparse
import os
import os.path as osp
import zipfile

import numpy as np
from mmengine.utils import ProgressBar
from PIL import Image

ROOT = 'ADEChallengeData2016'


def check_layout(root: str) -> dict:
    """Counts of image/annotation pairs per split; raises on a missing annotation or a label above 150."""
    counts = {}
    for split in ('training', 'validation'):
        images = sorted(p for p in _listdir(osp.join(root, 'images', split)) if p.endswith('.jpg'))
        for name in images:
            annotation = osp.join(root, 'annotations', split, name[:-4] + '.png')
            if not osp.isfile(annotation):
                raise SystemExit(f'{annotation} is missing: the archive looks incomplete')
            if np.asarray(Image.open(annotation)).max() > 150:
                raise SystemExit(f'{annotation} has labels above 150: not an ADE20K SceneParsing annotation')
        counts[split] = len(images)
    return counts


def _listdir(path: str) -> list:
    if not osp.isdir(path):
        raise SystemExit(f'{path} does not exist: is this the ADEChallengeData2016 archive?')
    return os.listdir(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('zip_path', help='ADEChallengeData2016.zip')
    parser.add_argument('out_dir', help='e.g. data/ade')
    args = parser.parse_args()
    if not osp.isfile(args.zip_path):
        raise SystemExit(f'{args.zip_path} does not exist: download ADEChallengeData2016.zip from the SceneParsing '
                         'benchmark first')
    with zipfile.ZipFile(args.zip_path) as archive:
        members = archive.namelist()
        progress = ProgressBar(len(members))
        for member in members:
            archive.extract(member, args.out_dir)
            progress.update()
    counts = check_layout(osp.join(args.out_dir, ROOT))
    print(f"\n{counts['training']} training and {counts['validation']} validation images in "
          f'{osp.join(args.out_dir, ROOT)}')


if __name__ == '__main__':
    main()
