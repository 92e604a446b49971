"""Pictures of what a distillation does: input, ground truth, teacher and student predictions, side by side.

    python tools/analysis/visualize.py CONFIG CHECKPOINT IMAGE [IMAGE ...] [--out-dir DIR] [--gt LABEL ...]
                                       [--taps] [--similarity] [--cfg-options key=value ...]

CONFIG is the distillation config, CHECKPOINT a checkpoint it trained (or an exported student); the teacher's
weights come from the config's ``teacher.checkpoint``. One PNG per image, ``DIR/<image name>.png``:

* row 1: the image, its ground truth (found in the config's datasets, or given with ``--gt``, one label
  file per image), the teacher's and the student's predictions in the dataset's palette, and below them a
  legend of the classes they show;
* ``--taps``: per distillation loss, what it compares, for the student and the teacher on one colour scale:
  class probabilities (pixel-wise KD, DIST) or spatial distributions (CWD, CGD, ICSD) of one class at the loss's
  τ (``--tap-class NAME``; default: the class the teacher predicts most), attention maps (AT), similarities to
  one position (SKD, CIRKD's relations), the per-position norm of the connector's output and of the teacher map
  (FitNet, Overhaul, AttnFD and the other feature losses);
* ``--similarity``: the teacher's and student's inter-class similarity matrices (AICSD), labelled with the
  class names, and their difference.
"""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

import mmseg_kd  # noqa: F401  (registers the distiller and the losses)
from mmseg_kd.analysis.teacher_student_figure import draw_teacher_student_figure
from mmseg_kd.analysis.teacher_student_inference import (
    dataset_meta,
    find_in_datasets,
    inference_pipeline,
    load_distiller,
    run_teacher_and_student,
    sample_info,
)
from mmseg_kd.losses.inter_class_similarity import inter_class_similarity_matrix
from mmseg_kd.utils.config_keys import merge_checked_options
from mmseg_kd.utils.progress import announce_step, track_progress


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(description='Draw teacher and student predictions (and what each '
                                                 'distillation loss compares) for some images')
    parser.add_argument('config', help='the distillation config')
    parser.add_argument('checkpoint', help='a checkpoint of that distillation (or an exported student)')
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument('--out-dir', help='where the pictures go (default: ./work_dirs/<config name>/pictures)')
    parser.add_argument('--gt', nargs='+', metavar='LABEL',
                        help='ground-truth label files, one per image (default: looked up in the datasets)')
    parser.add_argument('--taps', action='store_true', help="add each distillation loss's tapped maps")
    parser.add_argument('--tap-class', metavar='NAME',
                        help='the class whose probabilities or spatial distribution the --taps panels of logit '
                             'losses show (default: the class the teacher predicts most on each image)')
    parser.add_argument('--similarity', action='store_true',
                        help='add the inter-class similarity matrices (AICSD) of teacher and student')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.teacher.checkpoint=PATH')
    args = parser.parse_args(argv)
    if args.gt and len(args.gt) != len(args.images):
        parser.error(f'--gt needs one label file per image: {len(args.images)} image(s), '
                     f'{len(args.gt)} label(s)')
    for path in args.images + (args.gt or []):
        if not osp.isfile(path):
            parser.error(f'{path} does not exist')
    return args


def class_index_of(name: Optional[str], classes: Sequence[str]) -> Optional[int]:
    """The index of class ``name`` (None for None); a name not among ``classes`` is refused with the names."""
    if name is None:
        return None
    if name not in classes:
        raise ValueError(f"--tap-class {name!r} is not a class of the config's dataset; its classes: "
                         f"{', '.join(classes)}")
    return list(classes).index(name)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    similarity = inter_class_similarity_matrix if args.similarity else None
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_checked_options(cfg, args.cfg_options)
    out_dir = args.out_dir or osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0], 'pictures')
    os.makedirs(out_dir, exist_ok=True)

    meta = dataset_meta(cfg)
    class_index = class_index_of(args.tap_class, meta['classes'])
    teacher_checkpoint = (cfg.model.get('teacher') or {}).get('checkpoint')
    with announce_step(f"building the distiller, loading the teacher's weights ({teacher_checkpoint}) and the "
                       f"student's ({args.checkpoint})"):
        distiller = load_distiller(cfg, args.checkpoint)
    in_datasets = {}
    if not args.gt:
        with announce_step("looking for the images in the config's datasets (for their ground truth)"):
            in_datasets = find_in_datasets(cfg, args.images)
    gts = args.gt or [None] * len(args.images)
    pipelines = {with_labels: inference_pipeline(cfg, with_labels) for with_labels in (False, True)}
    written = []
    for image, gt in track_progress(list(zip(args.images, gts)), len(args.images),
                                    f'running teacher and student and drawing {len(args.images)} picture(s) into '
                                    f'{out_dir}'):
        info = in_datasets.get(image) or sample_info(image, gt, meta)
        outputs = run_teacher_and_student(distiller, pipelines['seg_map_path' in info], info, meta['classes'],
                                          class_index)
        matrices = None
        if similarity is not None:
            matrices = (similarity(outputs.teacher_logits[None]), similarity(outputs.student_logits[None]))
        out_file = osp.join(out_dir, osp.splitext(osp.basename(image))[0] + '.png')
        draw_teacher_student_figure(outputs, meta['classes'], meta['palette'], out_file, taps=args.taps,
                                    similarity=matrices)
        ground_truth = f"ground truth from {info['seg_map_path']}" if 'seg_map_path' in info else 'no ground truth'
        written.append((out_file, ground_truth))
    for out_file, note in written:
        print(f'{out_file}  ({note})')


if __name__ == '__main__':
    main()
