# CIRKD (Yang et al., CVPR 2022; winycg/CIRKD at 2d8ad0f) for mmseg's DeepLabV3 and PSPNet heads: the losses, taps and
# weights (docs/methods/cirkd.md). A leaf puts them into its protocol's distiller, with the dataset's class count:
#   model = dict(distill_losses=dict(cirkd_losses, loss_memory=dict(cirkd_losses.loss_memory, num_classes=K)))
#
# CIRKD's feature is the head output after ASPP/PPM fusion (mmseg: decode_head.bottleneck). The student's includes
# the head's train-mode dropout as in CIRKD: in mmseg that dropout sits in front of conv_seg, so the student tap is
# conv_seg's input; the teacher runs in eval mode (no dropout), its bottleneck output.
student_feature = dict(module='decode_head.conv_seg', record='input')
teacher_feature = 'decode_head.bottleneck'
logits = 'decode_head.conv_seg'  # 1/8-resolution logits
cirkd_losses = dict(
    # pixel KD on the 1/8 logits, tau 1, mean over all pixels (no ignore mask), weight 1
    loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.0, student=logits, teacher=logits),
    # every ordered image pair of each GPU's batch, tau 0.1, no tau^2, no pooling, weight 1
    loss_minibatch=dict(type='MiniBatchPixelRelation', tau=0.1, pool_size=None, loss_weight=1.0,
                        student=student_feature, teacher=teacher_feature),
    # memory contrast, logged as distill.loss_memory_pixel / distill.loss_memory_region, weight 0.1 each (CIRKD's
    # Cityscapes and ADE20K scripts; its VOC scripts use 0.01). Class k's pixel queue gets pixels of class k, as
    # the paper describes; CIRKD's released code fills it with features of the first n_k raster positions of each
    # image, whatever their label (a bug inherited from ContrastiveSeg, its issue #65), and
    # pixel_enqueue='raster_prefix' reproduces that for a comparison with the published numbers.
    loss_memory=dict(type='MemoryPixelRegionContrast', ignore_index=255,
                     pixel_memory_size=20000, region_memory_size=2000, pixel_contrast_size=4096,
                     region_contrast_size=1024, pixels_per_class_per_image=16, pixel_enqueue='class_pixels',
                     tau=0.1, kd_tau=1.0,
                     norm_cfg=dict(type='SyncBN', requires_grad=True), loss_weight=0.1,
                     student=student_feature, teacher=teacher_feature))
