# jfzhang95's DeepLabV3+-MobileNetV2 (an Overhaul/AICSD student)
# on Cityscapes (19 classes): 513x513 crops, 80k iterations.
# Architecture, normalisation, weights: ../_base_/models/jfzhang95-deeplabv3plus_mobilenetv2-d16.py.
# The papers' scales (training images resized to a shorter side of 256 to 1026 before the 513x513 crop, evaluation
# at a shorter side of 513, against the full-resolution labels or, as the papers, the resized ones):
# ../_base_/datasets/jfzhang95_cityscapes-513x513.py. Other augmentation and the schedule: mmseg's.
_base_ = [
    '../_base_/models/jfzhang95-deeplabv3plus_mobilenetv2-d16.py',
    '../_base_/datasets/jfzhang95_cityscapes-513x513.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
]
crop_size = (513, 513)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=19))
