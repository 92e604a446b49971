# MasKD (Huang et al., "Masked Distillation with Receptive Tokens", ICLR 2023) as in its segmentation experiments
# (hunto/MasKD segmentation/, a fork of CIRKD's code): the losses, taps, weights and the trainer's optimizer switches.
# * ReceptiveTokenMaskedDistillation (mmseg_kd/losses/receptive_token_masked_distillation.py): 8 receptive tokens
#   learnt on the teacher, frozen, on the 1/8 decode-head logits with weight 1 and, for ResNet students, on the
#   auxiliary-head logits with weight 0.4 (the same tokens); no other distillation term;
# * the tokens come from a first stage on the frozen teacher: python tools/learn_receptive_tokens.py CONFIG writes the
#   file that the leaf names (maskd_tokens); its settings (train_mask_module.py's) can be overridden in
#   receptive_token_learning (keys of RELEASED_SETTINGS in that tool);
# * MasKD's trainer: weight decay 5e-4 (2e-4 in the MobileNetV2 script) and poly down to 1e-4, instead of CIRKD's
#   1e-4 and 0. A leaf:
#     model = dict(distill_losses=dict(loss_maskd=dict(_base_.maskd_losses.loss_maskd, tokens=TOKEN_FILE),
#         loss_maskd_aux=dict(_base_.maskd_losses.loss_maskd_aux, tokens=TOKEN_FILE)))  (ResNet students)
#     optim_wrapper = maskd_optim_wrapper  (maskd_mobilenetv2_optim_wrapper for MobileNetV2)
#     param_scheduler = maskd_param_scheduler
maskd_losses = dict(
    loss_maskd=dict(type='ReceptiveTokenMaskedDistillation', num_classes=19, num_tokens=8, loss_weight=1.0,
                    student='decode_head.conv_seg', teacher='decode_head.conv_seg'),
    loss_maskd_aux=dict(type='ReceptiveTokenMaskedDistillation', num_classes=19, num_tokens=8, loss_weight=0.4,
                        student='auxiliary_head.conv_seg', teacher='auxiliary_head.conv_seg'))
maskd_optim_wrapper = dict(optimizer=dict(weight_decay=5e-4))
maskd_mobilenetv2_optim_wrapper = dict(optimizer=dict(weight_decay=2e-4))
maskd_param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=40000, by_epoch=False)]
