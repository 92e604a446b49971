# AttnFD: attention-guided feature distillation (Mansourian et al., arXiv 2403.05451; AmirMansurian/AttnFD) between
# mmseg's DeepLabV3+-R101 teacher and DeepLabV3+-R18 student: the losses, taps, connectors and the method's optimizer
# switches (mmseg_kd/losses/attention_guided_feature_distillation.py).
#
# Three positions (the reference's feature positions 3 to 5): the last backbone stage before its ReLU, the ASPP fusion
# output and the decoder output (both after their ReLU). Each student map is refined by a trainable CBAM, then a 1x1
# conv + BN connector maps it to the teacher's channels; the teacher map is refined by a parameter-free CBAM
# (teacher_refinement='parameter_free', the author's teacher mode of AttnFD issue #6). The released code refines it
# with the CBAMs of its teacher checkpoint, which the teacher's own training never ran (random weights) and whose BN
# uses batch statistics (the whole teacher runs in train mode); teacher_refinement='frozen_random' reproduces that,
# with its own seeded random weights, and mmseg's zoo teachers have no CBAM to load. Weight 2 per position, as the
# reference (its 1/B on the loss pairs with its CE/B). As the reference, the connectors learn alone in the first epoch
# and are frozen afterwards (gradients still pass through them to the student); a leaf sets the length of that epoch:
#   model = dict(connector_warmup=dict(iters=<one epoch>, freeze_after=True), distill_losses=attnfd_losses)
#   optim_wrapper = attnfd_optim_wrapper
# The reference also keeps its teacher in train mode (teacher=dict(..., bn_train=True) gives the BN part); not done
# here.
attnfd_settings = dict(type='AttentionGuidedFeatureDistillation', teacher_refinement='parameter_free',
                       loss_weight=2., connector=dict(type='ConvBNConnector'))
attnfd_losses = dict(
    loss_attnfd_backbone=dict(
        **attnfd_settings,
        student=dict(module='backbone.layer4', record='pre_activation'),
        teacher=dict(module='backbone.layer4', record='pre_activation')),
    loss_attnfd_aspp=dict(
        **attnfd_settings, student='decode_head.bottleneck', teacher='decode_head.bottleneck'),
    loss_attnfd_decoder=dict(
        **attnfd_settings, student='decode_head.sep_bottleneck', teacher='decode_head.sep_bottleneck'))

# Nesterov momentum (the reference's --nesterov); the connectors and the student CBAMs at the decoder's lr x10.
attnfd_optim_wrapper = dict(optimizer=dict(nesterov=True),
                            paramwise_cfg=dict(custom_keys={'connectors': dict(lr_mult=10.),
                                                            'distill_losses': dict(lr_mult=10.)}))
find_unused_parameters = True  # DDP: the student, then the frozen connectors, have no gradient
