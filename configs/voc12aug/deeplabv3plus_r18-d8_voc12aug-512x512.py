# DeepLabV3+-R18-D8 on Pascal VOC 2012 + SBD (voc12aug), 512x512 crops. mmseg has no R18 VOC config: the
# R50 one with mmseg's R18 settings (as in its Cityscapes deeplabv3plus_r18-d8 config).
_base_ = ['mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-40k_voc12aug-512x512.py']
model = dict(
    pretrained='open-mmlab://resnet18_v1c',
    backbone=dict(depth=18),
    decode_head=dict(c1_in_channels=64, c1_channels=12, in_channels=512, channels=128),
    auxiliary_head=dict(in_channels=256, channels=64))
