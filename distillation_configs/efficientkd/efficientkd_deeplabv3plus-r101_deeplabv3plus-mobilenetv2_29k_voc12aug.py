# Pixel-wise + pair-wise distillation (efficient KD architecture): DeepLabV3+-R101 -> DeepLabV3+-MobileNetV2
# on Pascal VOC 2012. Same losses, positions (decoder and ASPP of the head) and recipe as the R18 config.
# Teacher: mmseg's model zoo, deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512 (78.62 mIoU; URL and hash in the
# protocol base). The same setting with the paper's networks and teacher:
# efficientkd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-mobilenetv2_29k_voc12aug.py.
_base_ = ['./efficientkd_deeplabv3plus-r101_deeplabv3plus-r18_29k_voc12aug.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3plus_mobilenetv2-d8_voc12aug-512x512.py'))
