# SegFormer-B3 as NVlabs/SegFormer builds it (NVlabs head; SegDistill's SegFormer teacher) on ADE20K (150 classes):
# 512x512 crops, 160k iterations.
# Architecture, normalisation, weights: ../_base_/models/nvlabs-segformer_mit-b3.py.
# Data pipeline and schedule: as configs/ade20k/segformer_mit-b3_ade20k-512x512.py (mmseg's SegFormer recipe).
_base_ = [
    '../_base_/models/nvlabs-segformer_mit-b3.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw_segformer_160k.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=150))
