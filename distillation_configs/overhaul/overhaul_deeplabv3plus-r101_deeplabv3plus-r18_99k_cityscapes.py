# Overhaul of feature distillation: DeepLabV3+-R101 -> DeepLabV3+-R18 on Cityscapes, with the recipe of the
# AICSD/AttnFD code base, which reports Overhaul as a baseline: R18 64.09 -> 70.31 on Cityscapes val
# (evaluated at 513x1026 against down-sampled labels, not comparable with mmseg's full-resolution evaluation).
# Loss and positions as overhaul_deeplabv3plus-r101_deeplabv3plus-r18_44k_voc12aug.py. Recipe: 200 epochs of
# Cityscapes train at 6 images per step (one GPU) = 99,200 iterations, SGD lr 0.01 (Nesterov, momentum 0.9, wd
# 5e-4), poly 0.9, decoder and connectors at lr x10, teacher BN in train mode. Weight: the reference's 1e-5 on
# the batch sum with CE/B is 1e-5 x 6 on the per-image sum with mmseg's CE. The reference trains on square
# 513x513 crops; this config keeps mmseg's 512x1024 Cityscapes crops. The first epoch (496 iterations) trains
# the connectors alone, as the reference's.
_base_ = ['../../configs/cityscapes/deeplabv3plus_r18-d8_cityscapes-512x1024.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

ofd_connector = dict(type='ConvBNConnector')
ofd_weight = 1e-5 * 6  # 1e-5 x the reference batch of 6

model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(
        cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3plus_r18-d8_cityscapes-512x1024.py'),
    teacher=dict(
        cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3plus_r101-d8_cityscapes-512x1024.py',
        # mmseg model zoo: deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024, 80.97 mIoU (docs/teachers.md)
        checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/'
                   'deeplabv3plus_r101-d8_512x1024_80k_cityscapes/'
                   'deeplabv3plus_r101-d8_512x1024_80k_cityscapes_20200606_114143-068fcfe9.pth',
        checkpoint_sha256='068fcfe9',
        bn_train=True),  # Overhaul, Table 8: teacher BN in train mode distils better
    connector_warmup=dict(iters=496),  # epoch 0: the student waits while its connectors learn
    distill_losses=dict(
        loss_ofd_layer1=dict(
            type='OverhaulFeatureDistillation', divisor=8, loss_weight=ofd_weight, connector=ofd_connector,
            student=dict(module='backbone.layer1', record='pre_activation'),
            teacher=dict(module='backbone.layer1', record='pre_activation')),
        loss_ofd_layer2=dict(
            type='OverhaulFeatureDistillation', divisor=4, loss_weight=ofd_weight, connector=ofd_connector,
            student=dict(module='backbone.layer2', record='pre_activation'),
            teacher=dict(module='backbone.layer2', record='pre_activation')),
        loss_ofd_layer3=dict(
            type='OverhaulFeatureDistillation', divisor=2, loss_weight=ofd_weight, connector=ofd_connector,
            student=dict(module='backbone.layer3', record='pre_activation'),
            teacher=dict(module='backbone.layer3', record='pre_activation')),
        loss_ofd_layer4=dict(
            type='OverhaulFeatureDistillation', divisor=1, loss_weight=ofd_weight, connector=ofd_connector,
            student=dict(module='backbone.layer4', record='pre_activation'),
            teacher=dict(module='backbone.layer4', record='pre_activation')),
        loss_ofd_aspp=dict(
            type='OverhaulFeatureDistillation', divisor=1, loss_weight=ofd_weight, connector=ofd_connector,
            student='decode_head.bottleneck.bn', teacher='decode_head.bottleneck.bn'),
        loss_ofd_decoder=dict(
            type='OverhaulFeatureDistillation', divisor=16, loss_weight=ofd_weight, connector=ofd_connector,
            student='decode_head.sep_bottleneck.1.pointwise_conv.bn',
            teacher='decode_head.sep_bottleneck.1.pointwise_conv.bn')))

train_dataloader = dict(batch_size=6)  # one GPU
auto_scale_lr = dict(enable=False, base_batch_size=6)  # the recipe's total batch (tools/train.py --auto-scale-lr)
find_unused_parameters = True  # DDP: the student has no gradient during the connector warm-up
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=True),
    paramwise_cfg=dict(custom_keys={
        'student.decode_head': dict(lr_mult=10.),
        'student.auxiliary_head': dict(lr_mult=10.),
        'connectors': dict(lr_mult=10.)}))
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=99200, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=99200, val_interval=4960)

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
