"""Write the distilled student as a plain mmseg checkpoint that stock mmsegmentation loads.

    python tools/export_student.py DISTILL_CONFIG DISTILL_CHECKPOINT OUT.pth

The output holds ``{'state_dict': student weights, 'meta': {...}}``; load it with the student's own config,
e.g. ``mmseg.apis.init_model(student_config, 'OUT.pth')`` or ``tools/test.py STUDENT_CONFIG OUT.pth``.
The weights are checked against the student built from the distillation config before writing.
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config
from mmseg.registry import MODELS

import mmseg_kd  # noqa: F401
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.checkpoint.safe_loading import load_checkpoint_file, load_state_dict_strictly

STUDENT_PREFIX = 'student.'


def student_state_dict(checkpoint: dict) -> dict:
    """The ``student.*`` weights of a distillation checkpoint, without the prefix."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    student = {key[len(STUDENT_PREFIX):]: value for key, value in state_dict.items()
               if key.startswith(STUDENT_PREFIX)}
    if not student:
        raise ValueError('the checkpoint holds no student.* weights: is it a SegDistiller checkpoint?')
    return student


def main():
    parser = argparse.ArgumentParser(description='Export the student of a distillation checkpoint')
    parser.add_argument('config', help='the distillation config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='distillation checkpoint (e.g. work_dirs/.../iter_80000.pth)')
    parser.add_argument('out', help='output .pth file')
    args = parser.parse_args()

    checkpoint = load_checkpoint_file(args.checkpoint, what='distillation checkpoint')
    weights = student_state_dict(checkpoint)
    student_entry = Config.fromfile(args.config).model['student']
    student = MODELS.build(resolve_model_config(student_entry, 'student'))
    load_state_dict_strictly(student, weights, what=f'student weights of {args.checkpoint!r}',
                             config_hint=student_entry.get('cfg_path', 'the student config'))
    meta = dict(checkpoint.get('meta') or {})
    exported_meta = {key: meta[key] for key in ('dataset_meta', 'iter', 'epoch') if key in meta}
    exported_meta.update(exported_from=osp.abspath(args.checkpoint),
                         student_config=student_entry.get('cfg_path'))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save({'state_dict': weights, 'meta': exported_meta}, args.out)
    print(f'student ({len(weights)} tensors) written to {args.out}')


if __name__ == '__main__':
    main()
