# CIRKD (Yang et al., CVPR 2022) at CIRKD's Cityscapes protocol: DeepLabV3-R101 -> DeepLabV3-R18,
# 512x1024 crops, 40k iterations, 8 GPUs x 2 images, SGD lr 0.02, momentum 0.9, weight decay 1e-4, poly 0.9.
# Published (CIRKD README, val mIoU): student 74.21 -> 76.38 with CIRKD's 78.07 teacher
# (docs/methods/cirkd.md).
#   bash tools/dist_train.sh distillation_configs/cirkd/cirkd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py 8
_base_ = ['../../configs/cityscapes/deeplabv3_r18-d8_cityscapes-512x1024.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

# CIRKD's feature is the head output after ASPP/PPM fusion (mmseg: decode_head.bottleneck). The student's
# includes the head's train-mode dropout as in CIRKD: in mmseg that dropout sits in front of conv_seg, so
# the student tap is conv_seg's input; the teacher runs in eval mode (no dropout), its bottleneck output.
student_feature = dict(module='decode_head.conv_seg', record='input')
teacher_feature = 'decode_head.bottleneck'
logits = 'decode_head.conv_seg'  # 1/8-resolution logits
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_r18-d8_cityscapes-512x1024.py'),
    teacher=dict(
        cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_r101-d8_cityscapes-512x1024.py',
        checkpoint='checkpoints/deeplabv3_r101-d8_cityscapes-512x1024.pth'),
    distill_losses=dict(
        # pixel KD on the 1/8 logits, tau 1, mean over all pixels (no ignore mask), weight 1
        loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.0, student=logits, teacher=logits),
        # every ordered image pair of each GPU's batch, tau 0.1, no tau^2, no pooling, weight 1
        loss_minibatch=dict(type='MiniBatchPixelRelation', tau=0.1, pool_size=None, loss_weight=1.0,
                            student=student_feature, teacher=teacher_feature),
        # memory contrast, logged as distill.loss_memory_pixel / distill.loss_memory_region, weight 0.1 each
        loss_memory=dict(type='MemoryPixelRegionContrast', num_classes=19, ignore_index=255,
                         pixel_memory_size=20000, region_memory_size=2000, pixel_contrast_size=4096,
                         region_contrast_size=1024, pixels_per_class_per_image=16, tau=0.1, kd_tau=1.0,
                         norm_cfg=dict(type='SyncBN', requires_grad=True), loss_weight=0.1,
                         student=student_feature, teacher=teacher_feature)))

# CIRKD's schedule: 16 images per step (8 GPUs x 2), SGD on student + projection head, poly to 0 over 40k.
train_dataloader = dict(batch_size=2)
auto_scale_lr = dict(enable=False, base_batch_size=16)  # the recipe's total batch (tools/train.py --auto-scale-lr)
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4), clip_grad=None)
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=40000, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
# checkpoints hold the memory queues (19 x 22,000 x 512 floats = 856 MB): keep the last two
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000, max_keep_ckpts=2))

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
