# DeepLabV3 (ASPP) with a ResNetV1c-18 backbone, output stride 8, on ADE20K (150 classes): 512x512 crops, 160k
# iterations.
_base_ = [
    '../_base_/models/deeplabv3_r18-d8.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))
