# AICSD with the lineage's own networks: as
# aicsd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_99k_cityscapes.py with the DeepLabV3+-MobileNetV2
# student (ImageNet weights: checkpoints/jfzhang95-mobilenetv2_imagenet.pth). Published (AICSD README, Cityscapes val
# at 513x1026): MobileNetV2 63.05 -> 66.53.
# Teacher: none released for Cityscapes; train it (the protocol base says how).
_base_ = ['./aicsd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_99k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/jfzhang95-deeplabv3plus_mobilenetv2-d16_cityscapes-513x513.py'))
