# jfzhang95's DeepLabV3+-ResNet101 (the Overhaul/AICSD/AttnFD teacher)
# on Pascal VOC 2012 + SBD (21 classes): 513x513 crops, 40k iterations.
# Architecture, normalisation, weights: ../_base_/models/jfzhang95-deeplabv3plus_r101-d16-mg124.py.
# The papers' scales (training images resized to a shorter side of 256 to 1026 before the 513x513 crop, evaluation
# at a shorter side of 513, against the full-resolution labels or, as the papers, the resized ones):
# ../_base_/datasets/jfzhang95_pascal_voc12_aug-513x513.py. Other augmentation and the schedule: mmseg's.
_base_ = [
    '../_base_/models/jfzhang95-deeplabv3plus_r101-d16-mg124.py',
    '../_base_/datasets/jfzhang95_pascal_voc12_aug-513x513.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py',
]
crop_size = (513, 513)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=21))
