# DIST (Huang et al., NeurIPS 2022) at CIRKD's Cityscapes protocol, as in DIST's segmentation experiments:
# DeepLabV3-R101 -> DeepLabV3-R18, 512x1024 crops, 40k iterations, 8 GPUs x 2 images, SGD lr 0.02,
# momentum 0.9, weight decay 5e-4 (DIST's trainer default), poly 0.9 down to 1e-4.
# Losses: DIST (tau 1, beta = gamma = 1) on the 1/8 decode-head logits, weight 1, and on the auxiliary-head
# logits, weight 0.4; no other distillation term.
# Published (DIST_KD README, val mIoU): student 74.21 -> 77.10 (a reproduction reports 76.31 -> 77.54).
_base_ = ['../../configs/cityscapes/deeplabv3_r18-d8_cityscapes-512x1024.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_r18-d8_cityscapes-512x1024.py'),
    teacher=dict(
        cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_r101-d8_cityscapes-512x1024.py',
        checkpoint='checkpoints/deeplabv3_r101-d8_cityscapes-512x1024.pth'),
    distill_losses=dict(
        loss_dist=dict(type='InterIntraClassCorrelation', tau=1.0, beta=1.0, gamma=1.0, loss_weight=1.0,
                       student='decode_head.conv_seg', teacher='decode_head.conv_seg'),
        loss_dist_aux=dict(type='InterIntraClassCorrelation', tau=1.0, beta=1.0, gamma=1.0, loss_weight=0.4,
                           student='auxiliary_head.conv_seg', teacher='auxiliary_head.conv_seg')))

train_dataloader = dict(batch_size=2)  # 8 GPUs x 2 images
auto_scale_lr = dict(enable=False, base_batch_size=16)  # the recipe's total batch (tools/train.py --auto-scale-lr)
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4), clip_grad=None)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=40000, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000))

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
