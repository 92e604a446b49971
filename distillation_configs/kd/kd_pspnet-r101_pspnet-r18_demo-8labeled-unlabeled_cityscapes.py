# Pixel-wise KD of PSPNet-R101, trained on every labeled demo scene, into PSPNet-R18 that has 8 labeled scenes and
# the other training scenes as unlabeled images (docs/unlabeled_images.md). On the unlabeled images the student's
# cross-entropy has nothing to learn from and skips them (avg_non_ignore=True in the student config); the KD loss
# reads no labels (ignore_index=None) and matches the teacher on every pixel of every image.
_base_ = ['../../configs/demo/pspnet_r18-d8_demo-cityscapes-64x128-8labeled.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/demo/pspnet_r18-d8_demo-cityscapes-64x128-8labeled.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/demo/pspnet_r101-d8_demo-cityscapes-64x128.py',
                 checkpoint='work_dirs/demo/teacher_pspnet_r101.pth'),
    distill_losses=dict(
        loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=3.0,  # the only teacher on 248 of the 256 scenes
                     student='decode_head.conv_seg', teacher='decode_head.conv_seg')))

data_root = 'data/demo_cityscapes/'
labeled = dict(
    type='CityscapesDataset', data_root=data_root, ann_file='splits/8/labeled.txt',
    data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
    pipeline={{_base_.train_pipeline}})
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='AddIgnoredLabelMap'),  # in place of LoadAnnotations: every pixel 255
    dict(type='RandomResize', scale=(128, 64), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(64, 128)),  # no cat_max_ratio: it needs labels
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
unlabeled = dict(
    type='CityscapesDataset', data_root=data_root, ann_file='splits/8/unlabeled.txt',
    data_prefix=dict(img_path='leftImg8bit/train'),  # no seg_map_path: no label files
    pipeline=unlabeled_pipeline)
# The 8 labeled scenes repeated 31 times match the 248 unlabeled ones: on average half of every batch is labeled.
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ConcatDataset', datasets=[dict(type='RepeatDataset', times=31, dataset=labeled), unlabeled]))

auto_scale_lr = dict(enable=False, base_batch_size=4)  # the recipe's total batch (tools/train.py --auto-scale-lr)

# Every loss term, the learning rate and mIoU go to TensorBoard (tensorboard --logdir work_dirs) as well as
# to <work_dir>/<timestamp>/vis_data/scalars.json (read by tools/analysis/plot_logs.py).
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
