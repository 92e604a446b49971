# AICSD: DeepLabV3+-R101 -> DeepLabV3+-MobileNetV2 on Cityscapes. Published (Cityscapes val at 513x1026):
# MobileNetV2 63.05 -> 66.53. Same losses and recipe as the R18 Cityscapes config.
_base_ = ['./aicsd_deeplabv3plus-r101_deeplabv3plus-r18_99k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3plus_mobilenetv2-d8_cityscapes-512x1024.py'))
