# Pixel-wise + pair-wise distillation (efficient KD architecture): DeepLabV3+-R101 -> DeepLabV3+-MobileNetV2
# on Pascal VOC 2012. Same losses, positions (decoder and ASPP of the head) and recipe as the R18 config.
_base_ = ['./efficientkd_deeplabv3plus-r101_deeplabv3plus-r18_29k_voc12aug.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3plus_mobilenetv2-d8_voc12aug-512x512.py'))
