# DeepLabV3+ with a ResNetV1c-101 backbone, output stride 8 (mmseg's architecture; num_classes and data are set per
# dataset).
_base_ = ['mmseg::_base_/models/deeplabv3plus_r50-d8.py']
model = dict(pretrained='open-mmlab://resnet101_v1c', backbone=dict(depth=101))
