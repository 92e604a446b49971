# CIRKD v1's DeepLabV3-ResNet18 (winycg/CIRKD at 2d8ad0f; a CIRKD student), output stride 8.
# As cirkd-deeplabv3_r101-d8.py with ResNet-18 (deep stem 64-64-128) whose BasicBlocks also dilate conv2 with the
# stage dilation (ResNetWithDilatedConv2), a 128-wide ASPP and a 256 -> 64 FCN auxiliary head.
# Weights: CIRKD's released student checkpoints, converted with tools/model_converters/cirkd2mmseg.py; ImageNet
# backbone: CIRKD's resnet18-imagenet.pth converted to checkpoints/cirkd-resnet18_imagenet.pth.
# num_classes and data are set per dataset.
_base_ = ['./cirkd-deeplabv3_r101-d8.py']
model = dict(
    backbone=dict(
        type='ResNetWithDilatedConv2',
        depth=18,
        deep_stem=True,
        avg_down=False,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/cirkd-resnet18_imagenet.pth')),
    decode_head=dict(in_channels=512, channels=128),
    auxiliary_head=dict(in_channels=256, channels=64))
