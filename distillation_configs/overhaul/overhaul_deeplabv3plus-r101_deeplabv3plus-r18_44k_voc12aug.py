# Overhaul of feature distillation (Heo et al., ICCV 2019; clovaai/overhaul-distillation, Segmentation/):
# DeepLabV3+-R101 -> DeepLabV3+-R18 on Pascal VOC 2012 + SBD. Published (reference code, VOC val): R18 72.07
# -> 73.98 (teacher 77.89). Formula and weight conversion: mmseg_kd/losses/overhaul_feature_distillation.py.
#
# Six pre-ReLU positions (SPEC.md §0.1, §1): the four ResNet stages, the ASPP fusion and the decoder, each
# through a 1x1 conv + BN connector; margins from the teacher BN before each ReLU; per-position divisors 8, 4,
# 2, 1, 1, 16. Reference recipe: 50 epochs of voc12aug at 12 images per step (6 per GPU x 2 GPUs) = 44,100
# iterations, SGD lr 0.007 (Nesterov, momentum 0.9, wd 5e-4), poly 0.9, decoder and connectors at lr x10,
# teacher BN in train mode. Weight: the reference adds 1e-5 x (batch SUM) to a CE divided by the batch size;
# on mmseg's CE that is 1e-5 x 12 = 1.2e-4 on the per-image sum used here. Differences from the reference:
# mmseg's D8 models (the reference is OS16 with 256-channel ASPP/decoder; mmseg's R18 head has 128 channels,
# the R101 head 512), mmseg's aux head is kept, teacher dropout stays off. As the reference, the first epoch
# (10,582 images / 12 per step = 882 iterations) trains the connectors alone; the learning-rate schedule runs
# through it, as the reference's.
_base_ = ['../../configs/voc12aug/deeplabv3plus_r18-d8_voc12aug-512x512.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

ofd_connector = dict(type='ConvBNConnector')
ofd_weight = 1e-5 * 12  # 1e-5 x the reference batch of 12

model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(
        cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3plus_r18-d8_voc12aug-512x512.py'),
    teacher=dict(
        cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3plus_r101-d8_voc12aug-512x512.py',
        # mmseg model zoo: deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512, 78.62 mIoU (docs/teachers.md)
        checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/'
                   'deeplabv3plus_r101-d8_512x512_40k_voc12aug/'
                   'deeplabv3plus_r101-d8_512x512_40k_voc12aug_20200613_205333-faf03387.pth',
        checkpoint_sha256='faf03387',
        bn_train=True),  # Overhaul, Table 8: teacher BN in train mode distils better
    connector_warmup=dict(iters=882),  # epoch 0: the student waits while its connectors learn
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

train_dataloader = dict(batch_size=6)  # per GPU, 2 GPUs
auto_scale_lr = dict(enable=False, base_batch_size=12)  # the recipe's total batch (tools/train.py --auto-scale-lr)
find_unused_parameters = True  # DDP: the student has no gradient during the connector warm-up
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.007, momentum=0.9, weight_decay=5e-4, nesterov=True),
    paramwise_cfg=dict(custom_keys={
        'student.decode_head': dict(lr_mult=10.),
        'student.auxiliary_head': dict(lr_mult=10.),
        'connectors': dict(lr_mult=10.)}))
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=44100, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=44100, val_interval=4410)

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
