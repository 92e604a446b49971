# CIRKD at CIRKD's Pascal VOC protocol: DeepLabV3-R101 -> DeepLabV3-R18 on voc12aug, 512x512 crops, 40k
# iterations, 8 GPUs x 2 images, SGD lr 0.02, weight decay 1e-4, poly 0.9; memory losses weighted 0.01
# (CIRKD issue #8 and its VOC scripts). Published (CIRKD README, val mIoU): student 73.21 -> 74.50.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_voc12aug.py']  # models, data, schedule

student_feature = dict(module='decode_head.conv_seg', record='input')  # see the Cityscapes config
teacher_feature = 'decode_head.bottleneck'
logits = 'decode_head.conv_seg'
model = dict(
    distill_losses=dict(
        loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.0, student=logits, teacher=logits),
        loss_minibatch=dict(type='MiniBatchPixelRelation', tau=0.1, pool_size=None, loss_weight=1.0,
                            student=student_feature, teacher=teacher_feature),
        loss_memory=dict(type='MemoryPixelRegionContrast', num_classes=21, ignore_index=255,
                         pixel_memory_size=20000, region_memory_size=2000, pixel_contrast_size=4096,
                         region_contrast_size=1024, pixels_per_class_per_image=16, tau=0.1, kd_tau=1.0,
                         norm_cfg=dict(type='SyncBN', requires_grad=True), loss_weight=0.01,
                         student=student_feature, teacher=teacher_feature)))

# checkpoints hold the memory queues (21 x 22,000 x 512 floats = 946 MB): keep the last two
default_hooks = dict(checkpoint=dict(max_keep_ckpts=2))
