# AICSD: adaptive inter-class similarity distillation (Mansourian et al., arXiv 2308.04243; AmirMansurian/AICSD):
# the losses and taps, for any student (both losses compare logits).
#
# Losses on the logits (decode_head.conv_seg, 1/4 of the input with DeepLabV3+; the reference upsamples them to the
# input):
# * ICSD (mmseg_kd/losses/inter_class_similarity.py), lambda_lo = 9500 (the README's "--pa_lambda 9500");
# * pixel-wise KD, T = 1, no ignore mask: the reference's KLDivLoss averages over B*K*H*W elements and is added to a CE
#   divided by B, so with mmseg's CE and the per-pixel KL of KLDivergence the weight is lambda_pi * B / K = 10 * B / K
#   (B = 6, K classes: a leaf sets it);
# * adaptive loss weighting (ALW): L = alpha * (L_CE + L_ICSD) + (1 - alpha) * L_KD with alpha = e / E over the E epochs
#   of the recipe (a staircase of E steps over the run): TrainingProgress on ICSD and on every loss of the student's own
#   heads (decode CE and mmseg's aux CE), RemainingTraining on the KD. A leaf sets E:
#     model = dict(student=dict(loss_weight_schedule=dict(type='TrainingProgress', num_steps=E)),
#                  distill_losses=dict(
#                      loss_icsd=dict(aicsd_losses.loss_icsd,
#                                     weight_schedule=dict(type='TrainingProgress', num_steps=E)),
#                      loss_kd=dict(aicsd_losses.loss_kd, loss_weight=10. * 6 / K,
#                                   weight_schedule=dict(type='RemainingTraining', num_steps=E))))
# The reference runs the teacher in train mode (BN batch statistics and dropout): teacher=dict(..., bn_train=True)
# gives the BN part; the configs keep the teacher in eval mode.
aicsd_losses = dict(
    loss_icsd=dict(type='InterClassSimilarityDistillation', tau=1.0, loss_weight=9500.,
                   student='decode_head.conv_seg', teacher='decode_head.conv_seg'),
    loss_kd=dict(type='KLDivergence', tau=1.0, student='decode_head.conv_seg', teacher='decode_head.conv_seg'))
