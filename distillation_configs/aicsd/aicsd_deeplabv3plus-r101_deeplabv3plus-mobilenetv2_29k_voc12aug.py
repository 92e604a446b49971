# AICSD: DeepLabV3+-R101 -> DeepLabV3+-MobileNetV2 on Pascal VOC 2012. Published (VOC val): MobileNetV2 63.92
# -> 68.05. Same losses and recipe as the R18 config (logit losses do not depend on the student backbone).
_base_ = ['./aicsd_deeplabv3plus-r101_deeplabv3plus-r18_29k_voc12aug.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3plus_mobilenetv2-d8_voc12aug-512x512.py'))
