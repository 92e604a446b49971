# DeepLabV3 (ASPP) with a ResNetV1c-101 backbone, output stride 8, on Pascal VOC 2012 + SBD augmentation (21 classes):
# 512x512 crops, 40k iterations.
_base_ = [
    '../_base_/models/deeplabv3_r101-d8.py',
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
