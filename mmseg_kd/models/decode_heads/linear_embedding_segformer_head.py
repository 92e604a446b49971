"""The SegFormer head of the NVlabs code (NVlabs/SegFormer, mmseg 0.x), which mmseg 1.x's ``SegformerHead``
cannot hold.

Per level, the NVlabs head embeds the features with a Linear layer (with bias, no BN, no activation), where
mmseg's applies a 1x1 ConvModule with BN and ReLU; and it concatenates the upsampled embeddings in the order
c4, c3, c2, c1, where mmseg's concatenates c1..c4. The fusion (1x1 conv + BN + ReLU), the dropout
(``Dropout2d``) and the classifier are the same. Here the Linear layers are 1x1 convs (the same map on
every pixel).
"""
import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from torch import nn

from mmseg_kd.registry import MODELS


@MODELS.register_module()
class LinearEmbeddingSegformerHead(BaseDecodeHead):
    """NVlabs SegFormer head: ``linear_embeddings`` (one 1x1 conv with bias per level, no BN/activation),
    upsampling to c1's size, concatenation c4..c1, ``fusion_conv`` (1x1 + BN + ReLU), ``conv_seg``.

    e_i = up(W_i ∗ c_i + b_i, size of c1)
    logits = W_seg ∗ Dropout2d(ReLU(BN(W_f ∗ [e_4, e_3, e_2, e_1]))) + b_seg

    Args:
        **kwargs: ``BaseDecodeHead`` arguments with ``input_transform='multiple_select'``; ``in_channels`` are
            the four levels' channels, ``channels`` the embedding width (768 for MiT-B2..B5).

    Shapes: c_1..c_4 (B, C_i, H/2^(i+1), W/2^(i+1)) → logits (B, num_classes, H/4, W/4).
    """

    def __init__(self, **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        if len(self.in_channels) != 4:
            raise ValueError(f'LinearEmbeddingSegformerHead: expected 4 input levels (c1..c4), got in_channels='
                             f'{self.in_channels}')
        self.linear_embeddings = nn.ModuleList(nn.Conv2d(in_channels, self.channels, 1)
                                               for in_channels in self.in_channels)
        self.fusion_conv = ConvModule(4 * self.channels, self.channels, 1, conv_cfg=self.conv_cfg,
                                      norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)

    def forward(self, inputs) -> torch.Tensor:
        levels = self._transform_inputs(inputs)
        size = levels[0].shape[2:]
        embeddings = [resize(embed(level), size=size, mode='bilinear', align_corners=self.align_corners)
                      for embed, level in zip(self.linear_embeddings, levels)]
        return self.cls_seg(self.fusion_conv(torch.cat(embeddings[::-1], dim=1)))
