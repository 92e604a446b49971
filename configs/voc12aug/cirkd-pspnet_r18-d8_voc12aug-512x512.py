# CIRKD v1's PSPNet-ResNet18 (a CIRKD student) on Pascal VOC 2012 + SBD (21 classes): 512x512 crops, 40k iterations.
# Architecture, normalisation, weights: ../_base_/models/cirkd-pspnet_r18-d8.py.
# Data pipeline and schedule: mmseg's for the dataset (CIRKD's crop size).
_base_ = [
    '../_base_/models/cirkd-pspnet_r18-d8.py',
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=21),
    auxiliary_head=dict(num_classes=21))
