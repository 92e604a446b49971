# DIST (Huang et al., NeurIPS 2022) at CIRKD's Cityscapes protocol, as in DIST's segmentation experiments:
# DeepLabV3-R101 -> DeepLabV3-R18, 512x1024 crops, 40k iterations, 8 GPUs x 2 images, SGD lr 0.02,
# momentum 0.9, weight decay 5e-4 (DIST's trainer default), poly 0.9 down to 1e-4.
# Losses: DIST (tau 1, beta = gamma = 1) on the 1/8 decode-head logits, weight 1, and on the auxiliary-head
# logits, weight 0.4; no other distillation term.
# Published (DIST_KD README, val mIoU): student 74.21 -> 77.10 (a reproduction reports 76.31 -> 77.54).
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']  # models, data, schedule

model = dict(
    distill_losses=dict(
        loss_dist=dict(type='InterIntraClassCorrelation', tau=1.0, beta=1.0, gamma=1.0, loss_weight=1.0,
                       student='decode_head.conv_seg', teacher='decode_head.conv_seg'),
        loss_dist_aux=dict(type='InterIntraClassCorrelation', tau=1.0, beta=1.0, gamma=1.0, loss_weight=0.4,
                           student='auxiliary_head.conv_seg', teacher='auxiliary_head.conv_seg')))

# DIST's trainer: weight decay 5e-4 and poly down to 1e-4 instead of the protocol's 1e-4 and 0
optim_wrapper = dict(optimizer=dict(weight_decay=5e-4))
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=40000, by_epoch=False)]
