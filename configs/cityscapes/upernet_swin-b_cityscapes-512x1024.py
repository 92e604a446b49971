# UPerNet with a Swin-B backbone (window 7, ImageNet-1k pre-trained), on Cityscapes (19 classes): 512x1024 crops, 80k
# iterations.
_base_ = [
    '../_base_/models/upernet_swin-b.py',
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw_swin_80k.py',
]
crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=19),
    auxiliary_head=dict(num_classes=19))
