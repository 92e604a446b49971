# MGD (Yang et al., "Masked Generative Distillation", ECCV 2022; yzd-v/MGD at 2c9da0b, seg/): the losses, taps and
# weights (docs/methods/mgd.md). A leaf puts them into its distiller:
#   model = dict(distill_losses=mgd_losses)
# * the masked generation on the last backbone stage (c4, 1/8 resolution; 512 channels for R18 students, 2048 for
#   R101 teachers; a 1x1 align conv maps the widths): alpha 2e-5 x sum(G - F_t)^2 / B, 75 % of the pixels masked
#   at random, a new mask every step, conv3x3-ReLU-conv3x3 generator; the align conv and the generator learn with
#   the student (seg/configs/distillers/mgd/*.py: alpha_mgd=0.00002, lambda_mgd=0.75);
# * the CWD on the 1/8 logits that its distiller adds (use_logit=True): tau 4, weight 3, KL summed over the pixels,
#   divided by channels and images, times tau^2 (mmseg_kd's ChannelWiseDivergence).
c4 = 'backbone.layer4'
logits = 'decode_head.conv_seg'
mgd_losses = dict(
    loss_mgd=dict(type='MaskedFeatureGeneration', mask_ratio=0.75, mask_type='random', projector='plain',
                  loss_weight=2e-5, student=c4, teacher=c4),
    loss_cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=3.0, student=logits, teacher=logits))
