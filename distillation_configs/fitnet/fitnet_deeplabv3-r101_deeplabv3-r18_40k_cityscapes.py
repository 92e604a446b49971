# FitNet hints (Romero et al., ICLR 2015) as CIRKD's baseline (winycg/CIRKD, train_kd.py at 2d8ad0f):
# DeepLabV3-R101 -> DeepLabV3-R18 on Cityscapes. CIRKD's README reports no FitNet number.
#
# * MSE between the teacher's head feature (the ASPP fusion conv after its ReLU, 1/8 resolution, 512 channels)
#   and the student's (128 channels) through a trainable 1x1 conv without bias, lambda = 10
#   (mmseg_kd/losses/feature_mse.py);
# * pixel-wise KD on the 1/8 logits, T = 1, no ignore mask, lambda = 1. Recipe (CIRKD): 40,000 iterations at
#   16 images per step (8 GPUs x 2), SGD lr 0.02, momentum 0.9, wd 1e-4 (the connector included), poly 0.9 to
#   0, 512x1024 crops.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']
model = dict(distill_losses=dict(
        loss_fitnet=dict(type='FeatureMSE', loss_weight=10., connector=dict(type='ConvConnector'),
                         student='decode_head.bottleneck', teacher='decode_head.bottleneck'),
        loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.,
                     student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
