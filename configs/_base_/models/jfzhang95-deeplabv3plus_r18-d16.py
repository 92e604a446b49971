# The DeepLabV3+ of jfzhang95/pytorch-deeplab-xception with ResNet-18 (added by clovaai/overhaul-distillation),
# output stride 16: the student of Overhaul, AICSD and AttnFD. 7x7-stem ResNet-18, strides (1, 2, 2, 1), layer4
# dilated 2 in BOTH convs of each block (ResNetWithDilatedConv2, no multi-grid); the head of
# jfzhang95-deeplabv3plus_r101-d16-mg124.py on 512 channels (low level: layer1, 64 channels).
# Weights: the papers' students, converted with tools/model_converters/deeplabv3plus2mmseg.py; ImageNet backbone:
# torchvision's ResNet-18, as in the papers' code.
# num_classes and data are set per dataset.
_base_ = ['./jfzhang95-deeplabv3plus_r101-d16-mg124.py']
model = dict(
    backbone=dict(
        type='ResNetWithDilatedConv2',
        depth=18,
        multi_grid=None,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    decode_head=dict(in_channels=512, c1_in_channels=64))
