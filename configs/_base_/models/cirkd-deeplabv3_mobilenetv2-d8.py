# CIRKD v1's DeepLabV3-MobileNetV2 (winycg/CIRKD at 2d8ad0f, models/deeplabv3_mobile.py; a CIRKD student), output
# stride 8. MobileNetV2 (width 1.0, without the last 1x1 conv) with every block of its dilated stages dilated
# (DilatedMobileNetV2, dilate_every_block=True), the CIRKD head 128 wide on the 320-channel output, no auxiliary
# head; align_corners=True; BGR input minus Caffe means, std 1.
# Weights: CIRKD's released student checkpoint, converted with tools/model_converters/cirkd2mmseg.py; ImageNet
# backbone: CIRKD's mobilenetv2-imagenet.pth converted to checkpoints/cirkd-mobilenetv2_imagenet.pth.
# num_classes and data are set per dataset.
_base_ = ['./cirkd-deeplabv3_r101-d8.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='DilatedMobileNetV2',
        dilate_every_block=True,
        widen_factor=1.,
        strides=(1, 2, 2, 1, 1, 1, 1),
        dilations=(1, 1, 1, 2, 2, 4, 4),
        out_indices=(1, 2, 4, 6),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/cirkd-mobilenetv2_imagenet.pth')),
    decode_head=dict(in_channels=320, channels=128),
    auxiliary_head=None)
