"""Write the generated demo street scenes in the Cityscapes layout (what ``make demo`` trains on).

    python tools/dataset_converters/generate_demo_cityscapes.py [OUT_DIR] [--num-train N] [--num-val N]
                                                                 [--num-labeled N] [--size H W] [--seed S]

The defaults write the demo's dataset: 256 training and 64 validation scenes of 64x128 pixels to
``data/demo_cityscapes``, which mmseg's ``CityscapesDataset`` (and the demo configs) read unchanged, and a split of
the training scenes into 8 labeled ones (``splits/8/labeled.txt``) and the rest (``splits/8/unlabeled.txt``). The
same arguments always write the same files. See ``mmseg_kd/datasets/procedural_cityscapes.py`` and
``mmseg_kd/datasets/label_split.py``.
"""
import argparse

from mmseg_kd.datasets.label_split import write_label_split
from mmseg_kd.datasets.procedural_cityscapes import write_cityscapes_layout


def main():
    parser = argparse.ArgumentParser(description='Write generated street scenes in the Cityscapes layout')
    parser.add_argument('out_dir', nargs='?', default='data/demo_cityscapes',
                        help='dataset root (default: %(default)s)')
    parser.add_argument('--num-train', type=int, default=256, help='training scenes (default: %(default)s)')
    parser.add_argument('--num-val', type=int, default=64, help='validation scenes (default: %(default)s)')
    parser.add_argument('--num-labeled', type=int, default=8,
                        help='training scenes in the labeled list of the split; the others are listed as unlabeled '
                             '(default: %(default)s)')
    parser.add_argument('--size', nargs=2, type=int, default=(64, 128), metavar=('H', 'W'),
                        help='image height and width (default: 64 128)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: %(default)s)')
    args = parser.parse_args()
    if min(args.num_train, args.num_val) < 1 or min(args.size) < 16:
        parser.error('need at least 1 training and 1 validation scene of at least 16x16 pixels')
    if not 1 <= args.num_labeled < args.num_train:
        parser.error(f'--num-labeled must leave at least one unlabeled scene: between 1 and {args.num_train - 1}')
    write_cityscapes_layout(args.out_dir, num_train=args.num_train, num_val=args.num_val, size=tuple(args.size),
                            seed=args.seed)
    labeled, unlabeled = write_label_split(args.out_dir, args.num_labeled, seed=args.seed)
    print(f'split: {args.num_labeled} labeled scenes in {labeled}, {args.num_train - args.num_labeled} unlabeled in '
          f'{unlabeled} (under {args.out_dir})')


if __name__ == '__main__':
    main()
