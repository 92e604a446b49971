# DIST at CIRKD's Cityscapes protocol: DeepLabV3-R101 -> PSPNet-R18 (same losses, weights and schedule as
# the DeepLabV3-R18 config). Published (DIST_KD README, val mIoU): student 72.55 -> 76.31.
_base_ = ['./dist_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/pspnet_r18-d8_cityscapes-512x1024.py'))
