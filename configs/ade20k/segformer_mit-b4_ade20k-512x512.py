# SegFormer with a MiT-B4 encoder and the all-MLP decoder, on ADE20K (150 classes): 512x512 crops, 160k iterations.
_base_ = [
    '../_base_/models/segformer_mit-b4.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw_segformer_160k.py',
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=150))
