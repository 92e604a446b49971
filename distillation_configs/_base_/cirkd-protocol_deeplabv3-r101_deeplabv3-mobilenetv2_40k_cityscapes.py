# CIRKD's protocol (winycg/CIRKD) with a DeepLabV3-MobileNetV2 student: the R18 protocol base with another
# student (teacher DeepLabV3-R101, Cityscapes, 512x1024 crops, 40k iterations, 8 GPUs x 2 images, SGD lr 0.02).
# The method files add the losses.
_base_ = ['./cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_mobilenetv2-d8_cityscapes-512x1024.py'))
