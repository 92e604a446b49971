# DeepLabV3 (ASPP) with a MobileNetV2 backbone, output stride 8, on Cityscapes (19 classes): 512x1024 crops, 80k
# iterations.
_base_ = [
    '../_base_/models/deeplabv3_mobilenetv2-d8.py',
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
]
crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=19),
    auxiliary_head=dict(num_classes=19))
