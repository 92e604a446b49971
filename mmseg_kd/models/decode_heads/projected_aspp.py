"""ASPP with the image-pool branch last and a 1x1 projection, as CIRKD and the DeepLabV3+ lineage build it.

mmseg's ``ASPPHead`` concatenates the image-pool branch FIRST and fuses the branches with one 3x3 conv.
The papers' ASPP (torchvision's layout) concatenates the pool branch LAST and fuses with a 1x1 projection,
BN, ReLU and an element-wise ``nn.Dropout`` (p = 0.5); what follows the projection differs per paper and
lives in the heads (:class:`ProjectedASPPHead`, :class:`PlainConvDeepLabV3PlusHead`).
"""
from typing import Sequence

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.utils import resize
from torch import nn


class ProjectedASPP(nn.Module):
    """ASPP branches, image pooling (last), 1x1 projection + BN + ReLU, element-wise dropout.

    y = Dropout(ReLU(BN(W_proj ∗ [b_1(x), …, b_n(x), up(pool(x))])))

    where b_i is a 1x1 conv (dilation 1) or a 3x3 conv at dilation d_i, each + BN + ReLU, and pool is a global
    average pool + 1x1 conv + BN + ReLU, upsampled (bilinear) to x's size.

    Args:
        in_channels: C_in.
        channels: C, the width of every branch and of the projection.
        dilations: d_i of the conv branches (1 = the 1x1 branch).
        dropout_ratio: p of the element-wise dropout after the projection.
        conv_cfg, norm_cfg, act_cfg: as mmcv's ``ConvModule``.
        align_corners: of the pool branch's upsampling (irrelevant for its 1x1 source, kept for symmetry).

    Shapes: (B, C_in, H, W) → (B, C, H, W).
    """

    def __init__(self, in_channels: int, channels: int, dilations: Sequence[int], dropout_ratio: float,
                 conv_cfg=None, norm_cfg=None, act_cfg=dict(type='ReLU'), align_corners: bool = False):
        super().__init__()
        self.align_corners = align_corners
        self.aspp_modules = ASPPModule(dilations, in_channels, channels, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                       act_cfg=act_cfg)
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(in_channels, channels, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg))
        self.projection = ConvModule((len(dilations) + 1) * channels, channels, 1, conv_cfg=conv_cfg,
                                     norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.dropout = nn.Dropout(dropout_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = self.aspp_modules(x)
        branches.append(resize(self.image_pool(x), size=x.shape[2:], mode='bilinear',
                               align_corners=self.align_corners))
        return self.dropout(self.projection(torch.cat(branches, dim=1)))
