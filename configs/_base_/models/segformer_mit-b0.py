# SegFormer with a MiT-B0 encoder and the all-MLP decoder (mmseg's architecture; num_classes and data are set per
# dataset).
_base_ = ['mmseg::_base_/models/segformer_mit-b0.py']
checkpoint = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/segformer/mit_b0_20220624-7e0fe6dd.pth'  # noqa
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint)))
