"""MobileNetV2's inverted residual block with the padding applied to the block input, before the expansion conv.

The DeepLabV3+ lineage (jfzhang95/pytorch-deeplab-xception and the distillation codes built on it) pads the
input of every block by the depthwise conv's dilation d (``fixed_padding``) and then runs the whole block
without padding. The padded border therefore goes through the 1x1 expansion conv, BN and ReLU6 before the
depthwise conv sees it: it is ReLU6(BN(0)) = ReLU6(β − γ·μ/√(σ²+ε)) per channel, not the zeros that mmseg's
block (padding inside the depthwise conv) feeds it. Outputs differ along the borders of every feature map.

The modules and their state-dict keys are those of mmseg's ``InvertedResidual`` (``conv.0`` expansion,
``conv.1`` depthwise, ``conv.2`` linear projection; no expansion conv when ``expand_ratio`` is 1).
"""
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import nn


class InputPaddedInvertedResidual(nn.Module):
    """Inverted residual block that pads its input by the dilation d and convolves without padding.

    out = x + block(pad(x, d)) when stride is 1 and the channels match, block(pad(x, d)) otherwise, where
    block = [1x1 expansion + BN + act] → 3x3 depthwise (stride, dilation d, no padding) + BN + act → 1x1
    projection + BN.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        stride: stride of the depthwise conv (1 or 2).
        expand_ratio: hidden width / C_in; 1 means no expansion conv.
        dilation: dilation d of the depthwise conv, also the padding of the input.
        conv_cfg, norm_cfg, act_cfg: as mmseg's ``InvertedResidual``.

    Shapes: (B, C_in, H, W) → (B, C_out, ⌈H / stride⌉, ⌈W / stride⌉).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int, dilation: int = 1,
                 conv_cfg=None, norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU6')):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f'InputPaddedInvertedResidual: stride must be 1 or 2, got {stride}')
        self.stride = stride
        self.dilation = dilation
        self.use_res_connect = stride == 1 and in_channels == out_channels
        hidden_dim = int(round(in_channels * expand_ratio))
        layers = []
        if expand_ratio != 1:
            layers.append(ConvModule(in_channels, hidden_dim, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                     act_cfg=act_cfg))
        layers += [
            ConvModule(hidden_dim, hidden_dim, 3, stride=stride, padding=0, dilation=dilation, groups=hidden_dim,
                       conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg),
            ConvModule(hidden_dim, out_channels, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=None),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(F.pad(x, [self.dilation] * 4))
        return x + out if self.use_res_connect else out
