# AICSD: DeepLabV3+-R101 -> DeepLabV3+-R18 on Cityscapes. Published (Cityscapes val, evaluated at 513x1026
# against down-sampled labels): R18 64.09 -> 68.46 (teacher 77.66). Losses as the VOC config
# (mmseg_kd/losses/inter_class_similarity.py), with K = 19: KD weight 10 * 6 / 19. ALW over the E = 200 epochs
# of this schedule (the reference divides by a hard-coded 120, written for VOC; alpha = e / E is its
# generalisation). Recipe: 200 epochs of Cityscapes train at 6 images per step (one GPU) = 99,200 iterations,
# SGD lr 0.01 (momentum 0.9, wd 5e-4), poly 0.9, decoder at lr x10. The reference trains on square 513x513
# crops; this config keeps mmseg's 512x1024 Cityscapes crops.
_base_ = ['../../configs/cityscapes/deeplabv3plus_r18-d8_cityscapes-512x1024.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

alw_epochs = 200
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(
        cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3plus_r18-d8_cityscapes-512x1024.py',
        loss_weight_schedule=dict(type='TrainingProgress', num_steps=alw_epochs)),
    teacher=dict(
        cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3plus_r101-d8_cityscapes-512x1024.py',
        # mmseg model zoo: deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024, 80.97 mIoU (docs/teachers.md)
        checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/'
                   'deeplabv3plus_r101-d8_512x1024_80k_cityscapes/'
                   'deeplabv3plus_r101-d8_512x1024_80k_cityscapes_20200606_114143-068fcfe9.pth',
        checkpoint_sha256='068fcfe9'),
    distill_losses=dict(
        loss_icsd=dict(
            type='InterClassSimilarityDistillation', tau=1.0, loss_weight=9500.,
            weight_schedule=dict(type='TrainingProgress', num_steps=alw_epochs),
            student='decode_head.conv_seg', teacher='decode_head.conv_seg'),
        loss_kd=dict(
            type='KLDivergence', tau=1.0, loss_weight=10. * 6 / 19,
            weight_schedule=dict(type='RemainingTraining', num_steps=alw_epochs),
            student='decode_head.conv_seg', teacher='decode_head.conv_seg')))

train_dataloader = dict(batch_size=6)  # one GPU
auto_scale_lr = dict(enable=False, base_batch_size=6)  # the recipe's total batch (tools/train.py --auto-scale-lr)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={
        'student.decode_head': dict(lr_mult=10.),
        'student.auxiliary_head': dict(lr_mult=10.)}))
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=99200, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=99200, val_interval=4960)

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
