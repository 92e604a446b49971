# CIRKD (Yang et al., CVPR 2022) at CIRKD's Cityscapes protocol: DeepLabV3-R101 -> DeepLabV3-R18,
# 512x1024 crops, 40k iterations, 8 GPUs x 2 images, SGD lr 0.02, momentum 0.9, weight decay 1e-4, poly 0.9.
# Published (CIRKD README, val mIoU): student 74.21 -> 76.38 with CIRKD's 78.07 teacher
# (docs/methods/cirkd.md).
#   bash tools/dist_train.sh distillation_configs/cirkd/cirkd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py 8
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']  # models, data, schedule

# CIRKD's feature is the head output after ASPP/PPM fusion (mmseg: decode_head.bottleneck). The student's
# includes the head's train-mode dropout as in CIRKD: in mmseg that dropout sits in front of conv_seg, so
# the student tap is conv_seg's input; the teacher runs in eval mode (no dropout), its bottleneck output.
student_feature = dict(module='decode_head.conv_seg', record='input')
teacher_feature = 'decode_head.bottleneck'
logits = 'decode_head.conv_seg'  # 1/8-resolution logits
model = dict(
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

# SGD on student + projection head (the protocol base's schedule). Checkpoints hold the memory queues
# (19 x 22,000 x 512 floats = 856 MB): keep the last two.
default_hooks = dict(checkpoint=dict(max_keep_ckpts=2))
