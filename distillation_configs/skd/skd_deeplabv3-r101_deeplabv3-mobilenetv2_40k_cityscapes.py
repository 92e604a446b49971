# SKD pair-wise distillation as CIRKD's baseline: DeepLabV3-R101 -> DeepLabV3-MobileNetV2 on Cityscapes.
# Published in CIRKD (Cityscapes val): MobileNetV2 73.12 -> 73.82. Same losses and recipe as the R18 config
# (CIRKD's MobileNetV2 student has no aux head; mmseg's config keeps its aux head).
_base_ = ['./skd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_mobilenetv2-d8_cityscapes-512x1024.py'))
