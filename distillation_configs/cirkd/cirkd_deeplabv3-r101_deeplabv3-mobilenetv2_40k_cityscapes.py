# CIRKD at CIRKD's Cityscapes protocol: DeepLabV3-R101 -> DeepLabV3-MobileNetV2 (same losses, weights and
# schedule as the R18 config). Published (CIRKD README, val mIoU): student 73.12 -> 75.42.
_base_ = ['./cirkd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_mobilenetv2-d8_cityscapes-512x1024.py'))
