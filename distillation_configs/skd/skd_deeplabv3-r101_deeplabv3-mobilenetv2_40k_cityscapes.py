# SKD (Liu et al., CVPR 2019) as CIRKD's baseline, as skd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py with the
# DeepLabV3-MobileNetV2 student (CIRKD's has no auxiliary head; mmseg's keeps its own). Published in CIRKD (Cityscapes
# val): MobileNetV2 73.12 -> 73.82.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 (80.2 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# skd_cirkd-deeplabv3-r101_cirkd-deeplabv3-mobilenetv2_40k_cityscapes.py.
_base_ = ['./skd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_mobilenetv2-d8_cityscapes-512x1024.py'))
