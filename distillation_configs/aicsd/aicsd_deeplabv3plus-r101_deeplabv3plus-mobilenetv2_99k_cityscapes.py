# AICSD: DeepLabV3+-R101 -> DeepLabV3+-MobileNetV2 on Cityscapes. Published (Cityscapes val at 513x1026):
# MobileNetV2 63.05 -> 66.53. Same losses and recipe as the R18 Cityscapes config.
# Teacher: mmseg's model zoo, deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024 (80.97 mIoU; URL and hash in the
# protocol base). The same setting with the paper's networks and teacher:
# aicsd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-mobilenetv2_99k_cityscapes.py.
_base_ = ['./aicsd_deeplabv3plus-r101_deeplabv3plus-r18_99k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3plus_mobilenetv2-d8_cityscapes-512x1024.py'))
