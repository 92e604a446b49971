# Pixel-wise + pair-wise distillation with the lineage's own networks: as
# efficientkd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_29k_voc12aug.py with the DeepLabV3+-MobileNetV2
# student (ImageNet weights: checkpoints/jfzhang95-mobilenetv2_imagenet.pth). No published number.
# Teacher: the AICSD repository's, as the R18 config.
_base_ = ['./efficientkd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_29k_voc12aug.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/voc12aug/jfzhang95-deeplabv3plus_mobilenetv2-d16_voc12aug-513x513.py'))
