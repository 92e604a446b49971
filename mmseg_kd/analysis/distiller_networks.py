"""Build the networks a config describes, with random weights, for looking at their structure and shapes.

A distillation config (``model.type='SegDistiller'``) gives a student and a teacher; any other mmseg
config gives one segmentor, called ``'model'``. No checkpoint is read: shapes do not depend on weights,
and a config can be checked before the teacher's weights exist.
"""
from typing import Dict

from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope
from torch import nn

from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.seg_distiller import is_distiller_config
from mmseg_kd.registry import MODELS


def network_configs(model_cfg: dict) -> Dict[str, ConfigDict]:
    """``{'student': cfg, 'teacher': cfg}`` for a distiller config, ``{'model': cfg}`` otherwise."""
    if is_distiller_config(model_cfg):
        return {role: resolve_model_config(model_cfg[role], role) for role in ('student', 'teacher')}
    return {'model': ConfigDict(model_cfg)}


def build_networks(model_cfg: dict) -> Dict[str, nn.Module]:
    """The config's segmentors (see :func:`network_configs`), built with random weights."""
    scope = None if DefaultScope.get_current_instance() is not None else 'mmseg'
    with DefaultScope.overwrite_default_scope(scope):
        return {role: MODELS.build(cfg) for role, cfg in network_configs(model_cfg).items()}
