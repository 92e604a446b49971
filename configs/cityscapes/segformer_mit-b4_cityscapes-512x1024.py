# SegFormer with a MiT-B4 encoder and the all-MLP decoder, on Cityscapes (19 classes): 512x1024 crops, 80k iterations.
_base_ = [
    '../_base_/models/segformer_mit-b4.py',
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw_segformer_80k.py',
]
crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=19))
