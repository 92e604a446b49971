# PSPNet-R101 (mmseg) on the generated demo street scenes: the demo's teacher. Same data and schedule as
# the student config; only the architecture differs.
_base_ = ['./pspnet_r18-d8_demo-cityscapes-64x128.py']

model = dict(
    backbone=dict(depth=101),
    decode_head=dict(in_channels=2048, channels=512),
    auxiliary_head=dict(in_channels=1024, channels=256))
