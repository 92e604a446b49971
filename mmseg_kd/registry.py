"""Registries of mmseg-kd.

Distillers, losses and connectors go into mmsegmentation's ``MODELS`` registry so that mmseg's runner
builds them from a config like any segmentor. Loss-weight schedules are not models; they live in
:data:`WEIGHT_SCHEDULES`.
"""
from mmengine.registry import Registry
from mmseg.registry import MODELS

WEIGHT_SCHEDULES = Registry('loss weight schedule', locations=['mmseg_kd.schedules'])

__all__ = ['MODELS', 'WEIGHT_SCHEDULES']
