# The jfzhang95 lineage's DeepLabV3+-ResNet18 (the Overhaul/AICSD/AttnFD student)
# on Pascal VOC 2012 + SBD (21 classes): 513x513 crops, 40k iterations.
# Architecture, normalisation, weights: ../_base_/models/jfzhang95-deeplabv3plus_r18-d16.py.
# The papers' scales: training images resized to a shorter side of 256 to 1026 (513 x 0.5 to 2.0) before the
# 513x513 crop, evaluation at a shorter side of 513 (mIoU against the full-resolution labels; the papers resize
# the labels too). Other augmentation and the schedule: mmseg's for the dataset.
_base_ = [
    '../_base_/models/jfzhang95-deeplabv3plus_r18-d16.py',
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py',
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
voc_root = 'data/VOCdevkit/VOC2012'
train_dataloader = dict(dataset=dict(datasets=[
    dict(type='PascalVOCDataset', data_root=voc_root, ann_file='ImageSets/Segmentation/train.txt',
         data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'), pipeline=train_pipeline),
    dict(type='PascalVOCDataset', data_root=voc_root, ann_file='ImageSets/Segmentation/aug.txt',
         data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'), pipeline=train_pipeline),
]))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor, decode_head=dict(num_classes=21))
