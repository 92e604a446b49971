# Pixel-wise KD on the logits (mmseg_kd/losses/kl_divergence.py): tau 1, weight 1, the mean over all pixels of
# KL(teacher || student) without an ignore mask. It is CIRKD's KD baseline (on the heads' 1/8 logits), the term every
# other baseline script of CIRKD adds (--lambda-kd 1), and SegDistill's "PD".
kd_losses = dict(
    loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.0,
                 student='decode_head.conv_seg', teacher='decode_head.conv_seg'))
