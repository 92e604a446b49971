# CIRKD at CIRKD's ADE20K protocol: DeepLabV3-R101 -> DeepLabV3-R18, 512x512 crops, 40k iterations,
# 8 GPUs x 2 images, SGD lr 0.02, weight decay 1e-4, poly 0.9; CIRKD's default weights (memory 0.1).
# Published (CIRKD README, val mIoU): student 33.91 -> 35.41.
# Memory: 150 classes x 22,000 entries x 512 channels = 6.8 GB of queues on every GPU and in every
# checkpoint (CIRKD's 256-channel teacher: 3.4 GB); lower pixel_memory_size if that does not fit.
_base_ = ['../../configs/ade20k/deeplabv3_r18-d8_ade20k-512x512.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

student_feature = dict(module='decode_head.conv_seg', record='input')  # see the Cityscapes config
teacher_feature = 'decode_head.bottleneck'
logits = 'decode_head.conv_seg'
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/ade20k/deeplabv3_r18-d8_ade20k-512x512.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/ade20k/deeplabv3_r101-d8_ade20k-512x512.py',
                 # mmseg model zoo: deeplabv3_r101-d8_4xb4-160k_ade20k-512x512, 45.0 mIoU (docs/teachers.md)
                 checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/'
                            'deeplabv3_r101-d8_512x512_160k_ade20k/'
                            'deeplabv3_r101-d8_512x512_160k_ade20k_20200615_105816-b1f72b3b.pth',
                 checkpoint_sha256='b1f72b3b'),
    distill_losses=dict(
        loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.0, student=logits, teacher=logits),
        loss_minibatch=dict(type='MiniBatchPixelRelation', tau=0.1, pool_size=None, loss_weight=1.0,
                            student=student_feature, teacher=teacher_feature),
        loss_memory=dict(type='MemoryPixelRegionContrast', num_classes=150, ignore_index=255,
                         pixel_memory_size=20000, region_memory_size=2000, pixel_contrast_size=4096,
                         region_contrast_size=1024, pixels_per_class_per_image=16, tau=0.1, kd_tau=1.0,
                         norm_cfg=dict(type='SyncBN', requires_grad=True), loss_weight=0.1,
                         student=student_feature, teacher=teacher_feature)))

train_dataloader = dict(batch_size=2)  # 8 GPUs x 2 images
auto_scale_lr = dict(enable=False, base_batch_size=16)  # the recipe's total batch (tools/train.py --auto-scale-lr)
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4), clip_grad=None)
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=40000, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000, max_keep_ckpts=1))

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
