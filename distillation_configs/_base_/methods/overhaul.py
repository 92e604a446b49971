# Overhaul of feature distillation (Heo et al., ICCV 2019; clovaai/overhaul-distillation, Segmentation/) between mmseg's
# DeepLabV3+-R101 teacher and DeepLabV3+-R18 student: the losses, taps, connectors and the method's optimizer switches.
# Formula and weight conversion: mmseg_kd/losses/overhaul_feature_distillation.py and
# docs/methods/feature_and_relation_distillation.md.
#
# Six pre-ReLU positions (the six feature positions of the reference's DeepLabV3+): the four ResNet stages, the ASPP
# fusion and the decoder, each through a 1x1 conv + BN connector; margins from the teacher BN before each ReLU;
# per-position divisors 8, 4, 2, 1, 1, 16. The weight depends on the recipe's batch: the reference adds 1e-5 x (its
# batch SUM) to a CE divided by its batch size B, which on mmseg's CE and the per-image sum used here is 1e-5 x B. So a
# leaf sets it, with the connector warm-up of its recipe (one epoch) and the teacher's BN mode:
#   model = dict(teacher=dict(bn_train=True), connector_warmup=dict(iters=<one epoch>),
#                distill_losses={name: dict(loss, loss_weight=1e-5 * B) for name, loss in ofd_losses.items()})
#   optim_wrapper = overhaul_optim_wrapper
ofd_connector = dict(type='ConvBNConnector')
ofd_losses = dict(
    loss_ofd_layer1=dict(
        type='OverhaulFeatureDistillation', divisor=8, connector=ofd_connector,
        student=dict(module='backbone.layer1', record='pre_activation'),
        teacher=dict(module='backbone.layer1', record='pre_activation')),
    loss_ofd_layer2=dict(
        type='OverhaulFeatureDistillation', divisor=4, connector=ofd_connector,
        student=dict(module='backbone.layer2', record='pre_activation'),
        teacher=dict(module='backbone.layer2', record='pre_activation')),
    loss_ofd_layer3=dict(
        type='OverhaulFeatureDistillation', divisor=2, connector=ofd_connector,
        student=dict(module='backbone.layer3', record='pre_activation'),
        teacher=dict(module='backbone.layer3', record='pre_activation')),
    loss_ofd_layer4=dict(
        type='OverhaulFeatureDistillation', divisor=1, connector=ofd_connector,
        student=dict(module='backbone.layer4', record='pre_activation'),
        teacher=dict(module='backbone.layer4', record='pre_activation')),
    loss_ofd_aspp=dict(
        type='OverhaulFeatureDistillation', divisor=1, connector=ofd_connector,
        student='decode_head.bottleneck.bn', teacher='decode_head.bottleneck.bn'),
    loss_ofd_decoder=dict(
        type='OverhaulFeatureDistillation', divisor=16, connector=ofd_connector,
        student='decode_head.sep_bottleneck.1.pointwise_conv.bn',
        teacher='decode_head.sep_bottleneck.1.pointwise_conv.bn'))

# Nesterov momentum (the reference's --nesterov) and the connectors at the decoder's lr x10.
overhaul_optim_wrapper = dict(optimizer=dict(nesterov=True),
                              paramwise_cfg=dict(custom_keys={'connectors': dict(lr_mult=10.)}))
find_unused_parameters = True  # DDP: the student has no gradient during the connector warm-up
