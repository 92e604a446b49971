"""Decode heads of the papers' segmentation codes (registered in mmseg's ``MODELS``)."""
from mmseg_kd.models.decode_heads.linear_embedding_segformer_head import LinearEmbeddingSegformerHead
from mmseg_kd.models.decode_heads.plain_conv_deeplabv3plus_head import PlainConvDeepLabV3PlusHead
from mmseg_kd.models.decode_heads.projected_aspp import ProjectedASPP
from mmseg_kd.models.decode_heads.projected_aspp_head import ProjectedASPPHead

__all__ = ['LinearEmbeddingSegformerHead', 'PlainConvDeepLabV3PlusHead', 'ProjectedASPP', 'ProjectedASPPHead']
