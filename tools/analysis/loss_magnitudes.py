"""How large is each distillation term next to the student's cross-entropy? Measured on real training batches.

    python tools/analysis/loss_magnitudes.py CONFIG [--student-checkpoint CKPT] [--batches N] [--iteration N]
                                                    [--seed S] [--cfg-options key=value ...]

Builds the distiller of CONFIG (the teacher's weights from ``teacher.checkpoint``), runs its training forward on
N batches of the config's training dataloader (no optimizer step) and prints, for every logged loss term, its
mean, min and max over the batches and its mean divided by the decode head's cross-entropy. The terms are
weighted, as they enter the total loss: a term 1000 times smaller than the CE hardly changes the training, one
100 times larger drowns it. The student is taken as training starts (built and initialised), or from
``--student-checkpoint`` (a distillation checkpoint or a student trained alone) to see the terms later in training;
weight schedules are evaluated at ``--iteration`` (default 0: warm-ups and AICSD's α start at 0, so use the
iteration you care about).
"""
import argparse
import sys
from itertools import islice
from typing import Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.logging import MessageHub
from mmengine.runner import Runner, set_random_seed

import mmseg_kd  # noqa: F401  (registers the distiller and the losses)
from mmseg_kd.analysis.loss_magnitudes import magnitude_table, measure_loss_terms
from mmseg_kd.analysis.teacher_student_inference import load_distiller
from mmseg_kd.utils.config_keys import merge_checked_options
from mmseg_kd.utils.progress import announce_step, track_progress


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(description="Each loss term's size next to the student's cross-entropy, on "
                                                 'training batches')
    parser.add_argument('config', help='the distillation config')
    parser.add_argument('--student-checkpoint', metavar='CKPT',
                        help='student weights (a distillation checkpoint or a student trained alone); default: '
                             'the student as training starts')
    parser.add_argument('--batches', type=int, default=8, help='training batches to measure (default 8)')
    parser.add_argument('--iteration', type=int, default=0,
                        help='the training iteration at which weight schedules are evaluated (default 0)')
    parser.add_argument('--seed', type=int, default=0,
                        help="seed of the student's initialisation and of the dataloader (which images, which crops)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.teacher.checkpoint=PATH')
    args = parser.parse_args(argv)
    if args.batches < 1:
        parser.error(f'--batches must be at least 1, got {args.batches}')
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_checked_options(cfg, args.cfg_options)
    student = args.student_checkpoint or 'as training starts'
    set_random_seed(args.seed)
    with announce_step(f"building the distiller, loading the teacher's weights and the student's ({student})"):
        distiller = load_distiller(cfg, args.student_checkpoint)
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', args.iteration)
    hub.update_info('max_iters', cfg.get('train_cfg', {}).get('max_iters'))
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=args.seed)
    batches = track_progress(islice(loader, args.batches), min(args.batches, len(loader)),
                             f'running the training forward on {args.batches} batch(es) of '
                             f'{loader.batch_size} image(s)')
    statistics = measure_loss_terms(distiller, batches)
    measured = len(next(iter(statistics.values())).values)
    print(f'Loss terms over {measured} training batch(es) of {loader.batch_size} image(s), weighted as in the '
          f'total loss (weight schedules at iteration {args.iteration}); student: {student}')
    print('\n'.join(magnitude_table(statistics)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
