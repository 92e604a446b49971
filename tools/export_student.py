"""Write the distilled student as a plain mmseg checkpoint that stock mmsegmentation loads.

    python tools/export_student.py DISTILL_CONFIG DISTILL_CHECKPOINT OUT.pth

The output holds ``{'state_dict': student weights, 'meta': {...}}``; load it with the student's own config,
e.g. ``mmseg.apis.init_model(student_config, 'OUT.pth')`` or ``tools/test.py STUDENT_CONFIG OUT.pth``.
The weights are checked against the student built from the distillation config before writing.
"""
import argparse
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_kd  # noqa: F401
from mmseg_kd.checkpoint.atomic_write import write_atomically
from mmseg_kd.checkpoint.output_path import check_output_path
from mmseg_kd.checkpoint.safe_loading import extract_state_dict, load_checkpoint_file
from mmseg_kd.checkpoint.state_dict_pairing import is_distiller_state, load_paired_state_dict
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.seg_distiller import is_distiller_config
from mmseg_kd.engine.tool_errors import run_tool
from mmseg_kd.utils.user_input_error import UserInputError


def student_entry(cfg: Config, config_path: str) -> dict:
    """The ``model.student`` entry of a distillation config; a clear error for any other config."""
    if not is_distiller_config(cfg.model):
        raise UserInputError(
            f"{config_path} builds a plain segmentor (model.type={cfg.model.get('type')!r}), not a distillation: "
            'export_student.py takes the distillation config the checkpoint was trained with. A plain mmseg '
            'checkpoint needs no export: evaluate it with tools/test.py CONFIG CHECKPOINT, or load it with '
            'mmseg.apis.init_model(CONFIG, CHECKPOINT).')
    return cfg.model['student']


def main():
    parser = argparse.ArgumentParser(description='Export the student of a distillation checkpoint')
    parser.add_argument('config', help='the distillation config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='distillation checkpoint (e.g. work_dirs/.../iter_80000.pth)')
    parser.add_argument('out', help='output .pth file')
    args = parser.parse_args()
    check_output_path(args.out, inputs=(args.checkpoint, args.config))

    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))  # the student's parts are mmseg modules
    entry = student_entry(cfg, args.config)
    print(f'reading {args.checkpoint}', flush=True)
    checkpoint = load_checkpoint_file(args.checkpoint, what='distillation checkpoint')
    extract_state_dict(checkpoint, what=f'distillation checkpoint {args.checkpoint!r}')  # a dict of tensors
    weights = checkpoint.get('state_dict', checkpoint)
    if not is_distiller_state(weights):
        raise UserInputError(
            f'{args.checkpoint} holds no student.* weights: it is a plain segmentor checkpoint (an exported student, '
            'or an mmseg training checkpoint), which stock mmseg loads as it is. export_student.py takes a checkpoint '
            'that tools/train.py wrote for a distillation config.')
    student_config = entry.get('cfg_path', 'the inline student config')
    print(f'building the student ({student_config}) to check the weights against it', flush=True)
    student = MODELS.build(resolve_model_config(entry, 'student'))
    paired = load_paired_state_dict(student, weights, what=f'checkpoint {args.checkpoint!r}',
                                    config_hint=f'the student of {args.config}')
    for note in paired.notes:
        print(note)
    meta = dict(checkpoint.get('meta') or {})
    exported_meta = {key: meta[key] for key in ('dataset_meta', 'iter', 'epoch') if key in meta}
    exported_meta.update(exported_from=osp.abspath(args.checkpoint), student_config=entry.get('cfg_path'))
    exported = {'state_dict': paired.state_dict, 'meta': exported_meta}
    write_atomically(args.out, lambda temporary: torch.save(exported, temporary))
    print(f'student ({len(paired.state_dict)} tensors) written to {args.out}')


if __name__ == '__main__':
    run_tool(main)
