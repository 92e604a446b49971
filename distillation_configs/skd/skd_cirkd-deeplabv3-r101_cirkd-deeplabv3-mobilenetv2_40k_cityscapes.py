# SKD (Liu et al., CVPR 2019) as CIRKD's baseline, as skd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py
# with the DeepLabV3-MobileNetV2 student. Published in CIRKD (Cityscapes val): MobileNetV2 73.12 -> 73.82.
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['./skd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/cirkd-deeplabv3_mobilenetv2-d8_cityscapes-512x1024.py'))
