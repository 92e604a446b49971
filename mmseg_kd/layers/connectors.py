"""Connectors: trainable adapters that map a student tensor onto the teacher's shape before a loss.

A loss entry names its connector; the distiller builds it once the build-time dry run has measured the
tapped shapes, filling in ``in_channels`` (the student's) and ``out_channels`` (the teacher's)::

    loss_fitnet=dict(type='FeatureMSE', student=..., teacher=...,
                     connector=dict(type='ConvConnector'))                       # 1x1 conv, no bias
    loss_ofd=dict(type='OverhaulFeatureDistillation', student=..., teacher=...,
                  connector=dict(type='ConvBNConnector'))                        # 1x1 conv + BN
    loss_at=dict(type='AttentionTransfer', student=..., teacher=...,
                 connector=dict(type='ResizeConnector'))                         # resize only

Connectors live in ``SegDistiller.connectors`` (an ``nn.ModuleDict`` keyed by the loss name), so they
are in the distiller's ``state_dict`` (checkpoints), in the optimizer (give them their own learning rate
with ``paramwise_cfg=dict(custom_keys={'connectors': dict(lr_mult=10.)})``) and trained with the student.
With ``resize_to_teacher=True`` the student map is first resized (bilinear) to the teacher's H×W; with
``crop_to_teacher=True`` its centre is cut out instead (a student map that is the teacher's plus a border, such as
the expansion conv of the lineage's MobileNetV2 blocks, which convolve their input padded by the dilation).

Shapes: ``forward(student (B, C_s, H_s, W_s), teacher_size (H_t, W_t))`` → (B, C_t, H, W), with
(H, W) = (H_t, W_t) when resizing and (H_s, W_s) otherwise.
"""
import math
from typing import Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from torch import nn

from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import boolean, integer_at_least, norm_config
from mmseg_kd.utils.user_input_error import UserInputError


def centre_crop(student: torch.Tensor, size: Sequence[int], owner: str) -> torch.Tensor:
    """The centre ``size`` (H, W) of ``student`` (..., H + 2a, W + 2b)."""
    margins = [extent - target for extent, target in zip(student.shape[-2:], size)]
    if any(margin < 0 or margin % 2 for margin in margins):
        raise UserInputError(f'{owner}: crop_to_teacher cuts an equal border off each side of the student map, but the '
                         f'student map {tuple(student.shape[-2:])} is not the teacher map {tuple(size)} plus such a '
                         'border; resize instead (resize_to_teacher=True) or tap maps of matching sizes')
    top, left = margins[0] // 2, margins[1] // 2
    return student[..., top:top + size[0], left:left + size[1]]


class Connector(nn.Module):
    """Base class: optional resize of the student map to the teacher's H×W, then :meth:`project`.

    Args:
        in_channels: C_s >= 1, filled in by the distiller.
        out_channels: C_t >= 1, filled in by the distiller.
        resize_to_teacher: resize the student map to the teacher's H×W (bilinear) before projecting.
        align_corners: ``align_corners`` of the bilinear resize (mmseg resizes with ``False``).
        crop_to_teacher: cut the centre H×W of the teacher out of the student map before projecting; the
            student map must be larger by an even number of pixels in each direction.
    """

    def __init__(self, in_channels: int, out_channels: int, resize_to_teacher: bool = False,
                 align_corners: bool = False, crop_to_teacher: bool = False):
        super().__init__()
        owner = type(self).__name__
        self.in_channels = integer_at_least(owner, 'in_channels', in_channels, 1)
        self.out_channels = integer_at_least(owner, 'out_channels', out_channels, 1)
        self.resize_to_teacher = boolean(owner, 'resize_to_teacher', resize_to_teacher)
        self.align_corners = boolean(owner, 'align_corners', align_corners)
        self.crop_to_teacher = boolean(owner, 'crop_to_teacher', crop_to_teacher)
        if self.resize_to_teacher and self.crop_to_teacher:
            raise UserInputError(f'{owner}: give resize_to_teacher=True or crop_to_teacher=True, not both')

    def project(self, student: torch.Tensor) -> torch.Tensor:
        return student

    def forward(self, student: torch.Tensor, teacher_size: Sequence[int]) -> torch.Tensor:
        if self.crop_to_teacher:
            student = centre_crop(student, teacher_size, type(self).__name__)
        if self.resize_to_teacher and tuple(student.shape[-2:]) != tuple(teacher_size):
            student = F.interpolate(student, size=tuple(teacher_size), mode='bilinear',
                                    align_corners=self.align_corners)
        return self.project(student)


@MODELS.register_module()
class ResizeConnector(Connector):
    """Bilinear resize of the student map to the teacher's H×W; channels are left alone (no parameters)."""

    def __init__(self, in_channels: int, out_channels: int, align_corners: bool = False):
        super().__init__(in_channels, out_channels, resize_to_teacher=True, align_corners=align_corners)


@MODELS.register_module()
class ConvConnector(Connector):
    """1×1 convolution without bias, C_s → C_t (FitNet's regressor; CWD's channel adapter).

    PyTorch's default initialisation of ``nn.Conv2d``.
    """

    def __init__(self, in_channels: int, out_channels: int, **kwargs):
        super().__init__(in_channels, out_channels, **kwargs)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)

    def project(self, student: torch.Tensor) -> torch.Tensor:
        return self.conv(student)


@MODELS.register_module()
class ConvBNConnector(Connector):
    """1×1 convolution without bias, C_s → C_t, then BatchNorm (Overhaul of feature distillation, AttnFD).

    Initialisation as in Overhaul: conv weight ~ N(0, sqrt(2 / n)) with n = 1·1·C_t (He, fan-out),
    BN γ = 1, β = 0. ``norm_cfg`` picks the norm layer (mmcv config, e.g. ``dict(type='SyncBN')``).
    """

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict = dict(type='BN'),
                 **kwargs):
        super().__init__(in_channels, out_channels, **kwargs)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.bn = build_norm_layer(norm_config(type(self).__name__, 'norm_cfg', norm_cfg), out_channels)[1]
        nn.init.normal_(self.conv.weight, mean=0.0, std=math.sqrt(2.0 / out_channels))
        nn.init.ones_(self.bn.weight)
        nn.init.zeros_(self.bn.bias)

    def project(self, student: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(student))
