"""The DeepLabV3+ head of jfzhang95/pytorch-deeplab-xception (and the distillation codes built on it).

Differs from mmseg's ``DepthwiseSeparableASPPHead``: plain (not depthwise-separable) convs throughout; the
ASPP concatenates its image-pool branch last and fuses with a 1x1 projection + BN + ReLU + Dropout(0.5)
(no 3x3 bottleneck); the decoder's two 3x3 convs (304 → 256 → 256 for a 256-wide ASPP and 48 low-level
channels) have an element-wise Dropout(0.5) between them and Dropout(0.1) before the classifier.
"""
from typing import Sequence

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from torch import nn

from mmseg_kd.models.decode_heads.projected_aspp import ProjectedASPP
from mmseg_kd.registry import MODELS


@MODELS.register_module()
class PlainConvDeepLabV3PlusHead(BaseDecodeHead):
    """DeepLabV3+ head with plain convs: ``aspp`` on the high-level map, ``c1_bottleneck`` on the low-level
    map, ``fuse_convs`` over their concatenation, element-wise dropout, ``conv_seg``.

    a = up(ProjectedASPP(x), size of c1); l = ReLU(BN(W_c1 ∗ c1))
    f = ReLU(BN(W_2 ∗ Dropout_0.5(ReLU(BN(W_1 ∗ [a, l])))))
    logits = W_seg ∗ Dropout(f) + b_seg

    Args:
        c1_in_channels: channels of the low-level map c1 (ResNet layer1: 256 for R101, 64 for R18;
            MobileNetV2 second stage: 24).
        c1_channels: width of the low-level reduction (48).
        c1_in_index: index of c1 among the backbone outputs.
        dilations: the ASPP's conv-branch dilations, 1 for the 1x1 branch ((1, 6, 12, 18) at output stride 16).
        projection_dropout_ratio: p of the dropout after the ASPP projection (0.5).
        fuse_dropout_ratio: p of the dropout between the two fuse convs (0.5).
        **kwargs: ``BaseDecodeHead`` arguments; ``channels`` is the width of the ASPP and the fuse convs (256),
            ``dropout_ratio`` the p of the dropout before the classifier (0.1).

    Shapes: c1 (B, c1_in_channels, H/4, W/4), x = inputs[in_index] (B, C_in, H/16, W/16)
        → logits (B, num_classes, H/4, W/4).
    """

    def __init__(self, c1_in_channels: int, c1_channels: int = 48, c1_in_index: int = 0,
                 dilations: Sequence[int] = (1, 6, 12, 18), projection_dropout_ratio: float = 0.5,
                 fuse_dropout_ratio: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.c1_in_index = c1_in_index
        self.aspp = ProjectedASPP(self.in_channels, self.channels, dilations, projection_dropout_ratio,
                                  conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg,
                                  align_corners=self.align_corners)
        self.c1_bottleneck = ConvModule(c1_in_channels, c1_channels, 1, conv_cfg=self.conv_cfg,
                                        norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.fuse_convs = nn.Sequential(
            ConvModule(self.channels + c1_channels, self.channels, 3, padding=1, conv_cfg=self.conv_cfg,
                       norm_cfg=self.norm_cfg, act_cfg=self.act_cfg),
            nn.Dropout(fuse_dropout_ratio),
            ConvModule(self.channels, self.channels, 3, padding=1, conv_cfg=self.conv_cfg,
                       norm_cfg=self.norm_cfg, act_cfg=self.act_cfg))
        self.dropout = nn.Dropout(self.dropout_ratio) if self.dropout_ratio > 0 else None

    def _forward_feature(self, inputs) -> torch.Tensor:
        """The feature map fed to the classifier, (B, channels, H/4, W/4)."""
        low_level = self.c1_bottleneck(inputs[self.c1_in_index])
        high_level = resize(self.aspp(self._transform_inputs(inputs)), size=low_level.shape[2:],
                            mode='bilinear', align_corners=self.align_corners)
        return self.fuse_convs(torch.cat([high_level, low_level], dim=1))

    def forward(self, inputs) -> torch.Tensor:
        return self.cls_seg(self._forward_feature(inputs))
