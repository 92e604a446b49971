# DeepLabV3 (ASPP) with a ResNetV1c-18 backbone, output stride 8 (mmseg's architecture; num_classes and data are set per
# dataset).
_base_ = ['mmseg::_base_/models/deeplabv3_r50-d8.py']
model = dict(
    pretrained='open-mmlab://resnet18_v1c',
    backbone=dict(depth=18),
    decode_head=dict(in_channels=512, channels=128),
    auxiliary_head=dict(in_channels=256, channels=64))
