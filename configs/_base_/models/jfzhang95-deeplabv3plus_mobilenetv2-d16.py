# The DeepLabV3+ of jfzhang95/pytorch-deeplab-xception with MobileNetV2, output stride 16: a student of Overhaul
# and AICSD. MobileNetV2 (width 1.0) whose blocks pad their input before the expansion conv
# (DilatedMobileNetV2, pad_before_expansion=True), the 160-channel stage at stride 1 and the last block dilated 2;
# the head of jfzhang95-deeplabv3plus_r101-d16-mg124.py on 320 channels (low level: the 24-channel stage).
# Weights: the papers' students, converted with tools/model_converters/deeplabv3plus2mmseg.py; ImageNet backbone:
# the lineage's mobilenet_v2-6a65762b.pth converted to checkpoints/jfzhang95-mobilenetv2_imagenet.pth.
# num_classes and data are set per dataset.
_base_ = ['./jfzhang95-deeplabv3plus_r101-d16-mg124.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='DilatedMobileNetV2',
        pad_before_expansion=True,
        widen_factor=1.,
        strides=(1, 2, 2, 2, 1, 1, 1),
        dilations=(1, 1, 1, 1, 1, 1, 2),
        out_indices=(1, 2, 4, 6),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/jfzhang95-mobilenetv2_imagenet.pth')),
    decode_head=dict(in_channels=320, c1_in_channels=24))
