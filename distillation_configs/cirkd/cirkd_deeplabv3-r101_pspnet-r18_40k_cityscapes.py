# CIRKD at CIRKD's Cityscapes protocol: DeepLabV3-R101 -> PSPNet-R18 (same losses, weights and schedule as
# the DeepLabV3-R18 config; the student feature is PSPHead's bottleneck output after the head's dropout).
# Published (CIRKD README, val mIoU): student 72.55 -> 74.73.
_base_ = ['./cirkd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/pspnet_r18-d8_cityscapes-512x1024.py'))
