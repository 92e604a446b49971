# Pixel-wise + pair-wise distillation of "An Efficient Knowledge Distillation Architecture for Real-time
# Semantic Segmentation" (Mansourian et al., AUT journal; AmirMansurian/KD, code in the AICSD repository
# history): DeepLabV3+-R101 -> DeepLabV3+-R18 on Pascal VOC 2012. No published number recoverable from the
# repositories (the KD README is a copy of Overhaul's table).
#
# * pixel-wise: attention maps (channel mean of squares, L2-normalised per image) of the last decoder conv +
#   BN before its ReLU; lambda_pi = 100 (mmseg_kd/losses/attention_transfer.py). normalize='column' reproduces
#   the reference code's per-column normalisation.
# * pair-wise: cosine similarities of 2x2 max-pooled nodes (kernel = half the map, ceil mode) of the ASPP
#   fusion conv + BN before its ReLU, norm detached as the reference; lambda_pa = 1 (pairwise_similarity.py).
#   Both are added to a CE divided by the batch size B = 6 in the reference, so with mmseg's CE the weights
#   are 100 * 6 and 1 * 6. No connectors: both losses compare maps of different channel counts. Recipe: that
#   of the code base's AICSD runs (120 epochs of VOC train at 6 images per step = 29,280 iterations, SGD lr
#   0.007, momentum 0.9, wd 5e-4, poly 0.9, decoder at lr x10), here on voc12aug.
_base_ = ['../../configs/voc12aug/deeplabv3plus_r18-d8_voc12aug-512x512.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

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
    distill_losses=dict(
        loss_pixel=dict(
            type='AttentionTransfer', normalize='image', loss_weight=100. * 6,
            student='decode_head.sep_bottleneck.1.pointwise_conv.bn',
            teacher='decode_head.sep_bottleneck.1.pointwise_conv.bn'),
        loss_pair=dict(
            type='PairwiseSimilarityDistillation', pool_scale=0.5, detach_norm=True, loss_weight=1. * 6,
            student='decode_head.bottleneck.bn', teacher='decode_head.bottleneck.bn')))

train_dataloader = dict(batch_size=6)  # one GPU
auto_scale_lr = dict(enable=False, base_batch_size=6)  # the recipe's total batch (tools/train.py --auto-scale-lr)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.007, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={
        'student.decode_head': dict(lr_mult=10.),
        'student.auxiliary_head': dict(lr_mult=10.)}))
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=29280, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=29280, val_interval=2440)

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
