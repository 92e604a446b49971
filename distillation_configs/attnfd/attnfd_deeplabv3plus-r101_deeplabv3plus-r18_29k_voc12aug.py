# AttnFD: attention-guided feature distillation (Mansourian et al., arXiv 2403.05451; AmirMansurian/AttnFD):
# DeepLabV3+-R101 -> DeepLabV3+-R18 on Pascal VOC 2012. Published (VOC val, mean of runs): R18 67.50 -> 73.09
# (teacher 77.85), trained on VOC train (1,464 images).
#
# Three positions (SPEC.md §4): the last backbone stage before its ReLU, the ASPP fusion output and the
# decoder output (both after their ReLU). Each student map is refined by a trainable CBAM, then a 1x1 conv +
# BN connector maps it to the teacher's channels; the teacher map is refined by a parameter-free CBAM
# (teacher_refinement='frozen_random' matches the released code, see
# mmseg_kd/losses/attention_guided_feature_distillation.py). Weight 2 per position, as the reference (its 1/B
# on the loss pairs with its CE/B). Recipe: 120 epochs of VOC train at 6 images per step (one GPU) = 29,280
# iterations, SGD lr 0.007 (Nesterov, momentum 0.9, wd 5e-4), poly 0.9, decoder, connectors and the student
# CBAMs at lr x10. This config trains the same number of steps on voc12aug; for the published setting use VOC
# train only. As the reference, the connectors learn alone in the first epoch (1,464 images / 6 per step = 244
# iterations) and are frozen afterwards (gradients still pass through them to the student). The reference also
# keeps its teacher in train mode (teacher=dict(..., bn_train=True) gives the BN part); not done here.
_base_ = ['../../configs/voc12aug/deeplabv3plus_r18-d8_voc12aug-512x512.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

attnfd_loss = dict(type='AttentionGuidedFeatureDistillation', teacher_refinement='parameter_free',
                   loss_weight=2., connector=dict(type='ConvBNConnector'))
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
        checkpoint_sha256='faf03387'),
    connector_warmup=dict(iters=244, freeze_after=True),
    distill_losses=dict(
        loss_attnfd_backbone=dict(
            **attnfd_loss,
            student=dict(module='backbone.layer4', record='pre_activation'),
            teacher=dict(module='backbone.layer4', record='pre_activation')),
        loss_attnfd_aspp=dict(
            **attnfd_loss, student='decode_head.bottleneck', teacher='decode_head.bottleneck'),
        loss_attnfd_decoder=dict(
            **attnfd_loss, student='decode_head.sep_bottleneck', teacher='decode_head.sep_bottleneck')))

train_dataloader = dict(batch_size=6)  # one GPU
auto_scale_lr = dict(enable=False, base_batch_size=6)  # the recipe's total batch (tools/train.py --auto-scale-lr)
find_unused_parameters = True  # DDP: the student, then the frozen connectors, have no gradient
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.007, momentum=0.9, weight_decay=5e-4, nesterov=True),
    paramwise_cfg=dict(custom_keys={
        'student.decode_head': dict(lr_mult=10.),
        'student.auxiliary_head': dict(lr_mult=10.),
        'connectors': dict(lr_mult=10.),
        'distill_losses': dict(lr_mult=10.)}))
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=29280, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=29280, val_interval=2440)

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
