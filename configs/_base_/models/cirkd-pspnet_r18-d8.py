# CIRKD v1's PSPNet-ResNet18 (winycg/CIRKD at 2d8ad0f, models/pspnet.py; a CIRKD student), output stride 8.
# The ResNet-18 of cirkd-deeplabv3_r18-d8.py (deep stem 64-64-128, conv2 dilated too) with mmseg's PSPHead, 128 wide
# (pool scales 1/2/3/6, the input concatenated first, 3x3 bottleneck), an FCN auxiliary head 256 -> 64 (weight
# 0.4), align_corners=True; BGR input minus Caffe means, std 1.
# Weights: CIRKD's released student checkpoint, converted with tools/model_converters/cirkd2mmseg.py; ImageNet
# backbone: CIRKD's resnet18-imagenet.pth converted to checkpoints/cirkd-resnet18_imagenet.pth.
# num_classes and data are set per dataset.
_base_ = ['./cirkd-deeplabv3_r18-d8.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='PSPHead',
        in_channels=512,
        in_index=3,
        channels=128,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
