# CIRKD at CIRKD's Cityscapes protocol: DeepLabV3-R101 -> PSPNet-R18 (same losses, weights and schedule as
# the DeepLabV3-R18 config; the student feature is PSPHead's bottleneck output after the head's dropout).
# Published (CIRKD README, val mIoU): student 72.55 -> 74.73.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 (80.2 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# cirkd_cirkd-deeplabv3-r101_cirkd-pspnet-r18_40k_cityscapes.py.
_base_ = ['./cirkd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/pspnet_r18-d8_cityscapes-512x1024.py'))
