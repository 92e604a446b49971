"""Backbone variants of the papers' segmentation codes (registered in mmseg's ``MODELS``)."""
from mmseg_kd.models.backbones.dilated_mobilenet_v2 import DilatedMobileNetV2
from mmseg_kd.models.backbones.input_padded_inverted_residual import InputPaddedInvertedResidual
from mmseg_kd.models.backbones.resnet_with_dilated_conv2 import BasicBlockWithDilatedConv2, ResNetWithDilatedConv2

__all__ = ['BasicBlockWithDilatedConv2', 'DilatedMobileNetV2', 'InputPaddedInvertedResidual',
           'ResNetWithDilatedConv2']
