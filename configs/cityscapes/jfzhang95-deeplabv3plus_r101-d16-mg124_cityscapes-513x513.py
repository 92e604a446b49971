# jfzhang95's DeepLabV3+-ResNet101 (the Overhaul/AICSD/AttnFD teacher)
# on Cityscapes (19 classes): 513x513 crops, 80k iterations.
# Architecture, normalisation, weights: ../_base_/models/jfzhang95-deeplabv3plus_r101-d16-mg124.py.
# The papers' scales: training images resized to a shorter side of 256 to 1026 (513 x 0.5 to 2.0) before the
# 513x513 crop, evaluation at a shorter side of 513 (mIoU against the full-resolution labels; the papers resize
# the labels too). Other augmentation and the schedule: mmseg's for the dataset.
_base_ = [
    '../_base_/models/jfzhang95-deeplabv3plus_r101-d16-mg124.py',
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
]
crop_size = (513, 513)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(4096, 513), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, 513), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=19))
