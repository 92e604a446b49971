# DIST (Huang et al., "Knowledge Distillation from A Stronger Teacher", NeurIPS 2022) as in its segmentation
# experiments (hunto/DIST_KD, on CIRKD's code base): the losses, taps, weights and the trainer's optimizer switches.
# * DIST (tau 1, beta = gamma = 1; mmseg_kd/losses/inter_intra_class_correlation.py) on the 1/8 decode-head logits,
#   weight 1, and on the auxiliary-head logits, weight 0.4; no other distillation term;
# * DIST's trainer: weight decay 5e-4 and poly down to 1e-4, instead of CIRKD's 1e-4 and 0. A leaf:
#     model = dict(distill_losses=dist_losses)
#     optim_wrapper = dist_optim_wrapper
#     param_scheduler = dist_param_scheduler
dist_losses = dict(
    loss_dist=dict(type='InterIntraClassCorrelation', tau=1.0, beta=1.0, gamma=1.0, loss_weight=1.0,
                   student='decode_head.conv_seg', teacher='decode_head.conv_seg'),
    loss_dist_aux=dict(type='InterIntraClassCorrelation', tau=1.0, beta=1.0, gamma=1.0, loss_weight=0.4,
                       student='auxiliary_head.conv_seg', teacher='auxiliary_head.conv_seg'))
dist_optim_wrapper = dict(optimizer=dict(weight_decay=5e-4))
dist_param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=40000, by_epoch=False)]
