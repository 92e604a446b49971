# PSPNet-R101 (mmseg) on the generated demo street scenes: the demo's teacher, trained on every labeled scene. Same
# data and optimizer as the student config; the architecture differs, and it trains 300 iterations (the demo gives
# the students a compute budget instead).
_base_ = ['./pspnet_r18-d8_demo-cityscapes-64x128.py']

model = dict(
    backbone=dict(depth=101),
    decode_head=dict(in_channels=2048, channels=512),
    auxiliary_head=dict(in_channels=1024, channels=256))
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=300, by_epoch=False)]
train_cfg = dict(max_iters=300, val_interval=300)
default_hooks = dict(checkpoint=dict(interval=300))
