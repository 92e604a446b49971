"""The model that evaluation and inference build: the student alone, for a distillation config.

A distiller predicts with its student only, but building it builds and loads the teacher too (its checkpoint file
must exist) and runs the build-time check of every distillation term. ``tools/test.py`` builds the student model
config instead, with the distiller's data preprocessor, and loads the student's weights from either kind of checkpoint
(:class:`~mmseg_kd.engine.hooks.checkpoint_pairing_hook.CheckpointPairingHook` takes the ``student.*`` weights of a
distillation checkpoint, and an exported student checkpoint as it is).
"""
from mmengine.config import ConfigDict

from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.seg_distiller import is_distiller_config


def evaluation_model_config(model_cfg: dict) -> ConfigDict:
    """The student's model config of a distillation config (with the distiller's data preprocessor, when it sets
    one, as the distiller predicts with it); any other model config unchanged."""
    if not is_distiller_config(model_cfg):
        return model_cfg
    student = resolve_model_config(model_cfg['student'], 'student')
    if model_cfg.get('data_preprocessor') is not None:
        student['data_preprocessor'] = model_cfg['data_preprocessor']
    return student
