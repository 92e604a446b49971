# AICSD with the lineage's own networks: as
# aicsd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_29k_voc12aug.py with the DeepLabV3+-MobileNetV2
# student (its ImageNet weights: the lineage's mobilenet_v2-6a65762b.pth converted to
# checkpoints/jfzhang95-mobilenetv2_imagenet.pth, docs/model_converters.md). Published (AICSD README, VOC val at a
# shorter side of 513): MobileNetV2 63.92 -> 68.05.
# Teacher: AICSD's, as the R18 config.
_base_ = ['./aicsd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_29k_voc12aug.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/voc12aug/jfzhang95-deeplabv3plus_mobilenetv2-d16_voc12aug-513x513.py'))
