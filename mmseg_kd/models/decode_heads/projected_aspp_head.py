"""CIRKD's DeepLabV3 head: ASPP with a 1x1 projection, then a 3x3 conv, then the classifier.

Differs from mmseg's ``ASPPHead`` (pool branch first, one 3x3 conv over the concatenation, ``Dropout2d``):
the image-pool branch is concatenated last, a 1x1 projection + BN + ReLU + Dropout(0.5) fuses the branches,
a 3x3 conv + BN + ReLU follows, and the dropout before the classifier is element-wise (``nn.Dropout``).
"""
from typing import Sequence

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import nn

from mmseg_kd.models.decode_heads.projected_aspp import ProjectedASPP
from mmseg_kd.registry import MODELS


@MODELS.register_module()
class ProjectedASPPHead(BaseDecodeHead):
    """DeepLabV3 head of CIRKD: ``aspp`` (:class:`ProjectedASPP`) → ``bottleneck`` (3x3 conv + BN + ReLU) →
    element-wise dropout → ``conv_seg``.

    logits = W_seg ∗ Dropout(ReLU(BN(W_3x3 ∗ ProjectedASPP(x)))) + b_seg

    Args:
        dilations: the ASPP's conv-branch dilations, 1 for the 1x1 branch (CIRKD: (1, 12, 24, 36)).
        projection_dropout_ratio: p of the dropout after the projection (CIRKD: 0.5).
        **kwargs: ``BaseDecodeHead`` arguments; ``channels`` is the width of the ASPP and the 3x3 conv
            (CIRKD: 256 for ResNet-101, 128 for ResNet-18 and MobileNetV2), ``dropout_ratio`` the p of the
            dropout before the classifier (CIRKD: 0.1).

    Shapes: backbone outputs, x = inputs[in_index] of (B, C_in, H, W) → logits (B, num_classes, H, W).
    """

    def __init__(self, dilations: Sequence[int] = (1, 12, 24, 36), projection_dropout_ratio: float = 0.5,
                 **kwargs):
        super().__init__(**kwargs)
        self.aspp = ProjectedASPP(self.in_channels, self.channels, dilations, projection_dropout_ratio,
                                  conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg,
                                  align_corners=self.align_corners)
        self.bottleneck = ConvModule(self.channels, self.channels, 3, padding=1, conv_cfg=self.conv_cfg,
                                     norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.dropout = nn.Dropout(self.dropout_ratio) if self.dropout_ratio > 0 else None

    def _forward_feature(self, inputs) -> torch.Tensor:
        """The feature map fed to the classifier, (B, channels, H, W)."""
        return self.bottleneck(self.aspp(self._transform_inputs(inputs)))

    def forward(self, inputs) -> torch.Tensor:
        return self.cls_seg(self._forward_feature(inputs))
