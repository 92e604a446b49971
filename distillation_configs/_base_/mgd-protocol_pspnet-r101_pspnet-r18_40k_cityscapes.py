# MGD's Cityscapes protocol (yzd-v/MGD at 2c9da0b, seg/ on mmseg 0.20): teacher PSPNet-R101, student mmseg's
# PSPNet-R18 (ResNetV1c-18, head channels 128), 512x512 crops of images resized to 2048x1024 x [0.5, 2],
# mmseg's 40k schedule (SGD lr 0.01, momentum 0.9, weight decay 5e-4, poly 0.9 to 1e-4), 8 GPUs x 2 images (the
# README's `dist_train.sh ... 8` with cityscapes_512x512's samples_per_gpu=2). The leaves add the losses.
# Teacher: MGD's configs load mmseg's pspnet_r101-d8_512x1024_40k_cityscapes (78.34 mIoU); this base loads mmseg
# 1.2.2's 80k PSPNet-R101 (79.76), the zoo teacher of this repository's PSPNet-R101 config (docs/teachers.md). For
# MGD's own teacher: --cfg-options model.teacher.checkpoint=https://download.openmmlab.com/mmsegmentation/v0.5/pspnet/
# pspnet_r101-d8_512x1024_40k_cityscapes/pspnet_r101-d8_512x1024_40k_cityscapes_20200604_232751-467e7cf4.pth
# model.teacher.checkpoint_sha256=467e7cf4
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    './default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py',
]
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)  # SegDistiller, the losses
crop_size = (512, 512)
data_preprocessor = dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                         bgr_to_rgb=True, pad_val=0, seg_pad_val=255, size=crop_size)
model = dict(
    type='SegDistiller',
    data_preprocessor=data_preprocessor,  # the student's own pads to 512x1024
    student=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/pspnet_r18-d8_cityscapes-512x1024.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/pspnet_r101-d8_cityscapes-512x1024.py',
                 # mmseg model zoo: pspnet_r101-d8_4xb2-80k_cityscapes-512x1024, 79.76 mIoU (docs/teachers.md)
                 checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/pspnet/'
                            'pspnet_r101-d8_512x1024_80k_cityscapes/'
                            'pspnet_r101-d8_512x1024_80k_cityscapes_20200606_112211-e1e1100f.pth',
                 checkpoint_sha256='e1e1100f'),
    distill_losses=dict())
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))  # per GPU
auto_scale_lr = dict(enable=False, base_batch_size=16)  # the recipe's total batch (tools/train.py --auto-scale-lr)
