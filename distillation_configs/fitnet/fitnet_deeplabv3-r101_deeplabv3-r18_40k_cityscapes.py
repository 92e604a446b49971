# FitNet hints (Romero et al., ICLR 2015) as CIRKD's baseline (winycg/CIRKD, train_kd.py at 2d8ad0f):
# DeepLabV3-R101 -> DeepLabV3-R18 on Cityscapes. CIRKD's README reports no FitNet number.
#
# * MSE between the teacher's head feature (the ASPP fusion conv after its ReLU, 1/8 resolution, 512 channels)
#   and the student's (128 channels) through a trainable 1x1 conv without bias, lambda = 10
#   (mmseg_kd/losses/feature_mse.py);
# * pixel-wise KD on the 1/8 logits, T = 1, no ignore mask, lambda = 1. Recipe (CIRKD): 40,000 iterations at
#   16 images per step (8 GPUs x 2), SGD lr 0.02, momentum 0.9, wd 1e-4 (the connector included), poly 0.9 to
#   0, 512x1024 crops.
_base_ = ['../../configs/cityscapes/deeplabv3_r18-d8_cityscapes-512x1024.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(
        cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_r18-d8_cityscapes-512x1024.py'),
    teacher=dict(
        cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_r101-d8_cityscapes-512x1024.py',
        checkpoint='checkpoints/deeplabv3_r101-d8_cityscapes-512x1024.pth'),
    distill_losses=dict(
        loss_fitnet=dict(type='FeatureMSE', loss_weight=10., connector=dict(type='ConvConnector'),
                         student='decode_head.bottleneck', teacher='decode_head.bottleneck'),
        loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.,
                     student='decode_head.conv_seg', teacher='decode_head.conv_seg')))

train_dataloader = dict(batch_size=2)  # per GPU, 8 GPUs
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=40000, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
