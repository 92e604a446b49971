# UPerNet with a Swin-T backbone (window 7, ImageNet-1k pre-trained), on ADE20K (150 classes): 512x512 crops, 160k
# iterations.
_base_ = [
    '../_base_/models/upernet_swin-t.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw_swin_160k.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150))
