# FitNet hints (Romero et al., ICLR 2015) as CIRKD's baseline (winycg/CIRKD, train_kd.py and
# train_scripts/train_kd/train_fitnet.sh at 2d8ad0f): the losses, taps and weights.
# * MSE between the teacher's head feature (the ASPP fusion conv after its ReLU, 1/8 resolution) and the student's
#   through a trainable 1x1 conv without bias (ConvConnector, in the student's optimizer with its weight decay),
#   lambda = 10 (mmseg_kd/losses/feature_mse.py);
# * pixel-wise KD on the 1/8 logits (./kd.py).
_base_ = ['./kd.py']
fitnet_losses = dict(
    loss_fitnet=dict(type='FeatureMSE', loss_weight=10., connector=dict(type='ConvConnector'),
                     student='decode_head.bottleneck', teacher='decode_head.bottleneck'),
    loss_kd=_base_.kd_losses.loss_kd)
