# CIRKD at CIRKD's Pascal VOC protocol: DeepLabV3-R101 -> DeepLabV3-R18 on voc12aug, 512x512 crops, 40k
# iterations, 8 GPUs x 2 images, SGD lr 0.02, weight decay 1e-4, poly 0.9; memory losses weighted 0.01
# (CIRKD issue #8 and its VOC scripts). Published (CIRKD README, val mIoU): student 73.21 -> 74.50.
_base_ = ['../../configs/voc12aug/deeplabv3_r18-d8_voc12aug-512x512.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

student_feature = dict(module='decode_head.conv_seg', record='input')  # see the Cityscapes config
teacher_feature = 'decode_head.bottleneck'
logits = 'decode_head.conv_seg'
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3_r18-d8_voc12aug-512x512.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3_r101-d8_voc12aug-512x512.py',
                 checkpoint='checkpoints/deeplabv3_r101-d8_voc12aug-512x512.pth'),
    distill_losses=dict(
        loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.0, student=logits, teacher=logits),
        loss_minibatch=dict(type='MiniBatchPixelRelation', tau=0.1, pool_size=None, loss_weight=1.0,
                            student=student_feature, teacher=teacher_feature),
        loss_memory=dict(type='MemoryPixelRegionContrast', num_classes=21, ignore_index=255,
                         pixel_memory_size=20000, region_memory_size=2000, pixel_contrast_size=4096,
                         region_contrast_size=1024, pixels_per_class_per_image=16, tau=0.1, kd_tau=1.0,
                         norm_cfg=dict(type='SyncBN', requires_grad=True), loss_weight=0.01,
                         student=student_feature, teacher=teacher_feature)))

train_dataloader = dict(batch_size=2)  # 8 GPUs x 2 images
auto_scale_lr = dict(enable=False, base_batch_size=16)  # the recipe's total batch (tools/train.py --auto-scale-lr)
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4), clip_grad=None)
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=40000, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
# checkpoints hold the memory queues (21 x 22,000 x 512 floats = 946 MB): keep the last two
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000, max_keep_ckpts=2))

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
