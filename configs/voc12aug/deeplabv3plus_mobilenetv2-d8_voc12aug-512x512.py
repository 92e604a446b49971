# DeepLabV3+ with a MobileNetV2-D8 backbone on Pascal VOC 2012 + SBD (voc12aug), 512x512 crops. mmseg has
# no MobileNetV2 VOC config: the R101 one with the backbone of mmseg's mobilenet-v2-d8_deeplabv3plus configs.
_base_ = ['mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py']
model = dict(
    pretrained='mmcls://mobilenet_v2',
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.,
        strides=(1, 2, 2, 1, 1, 1, 1),
        dilations=(1, 1, 1, 2, 2, 4, 4),
        out_indices=(1, 2, 4, 6),
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    decode_head=dict(in_channels=320, c1_in_channels=24),
    auxiliary_head=dict(in_channels=96))
