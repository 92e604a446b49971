# Attention transfer (Zagoruyko & Komodakis, ICLR 2017) as CIRKD's baseline (winycg/CIRKD, train_kd.py and
# train_scripts/train_kd/train_at.sh at 2d8ad0f): the losses, taps and weights.
# * AT on the head feature (the ASPP fusion conv after its ReLU, 1/8 resolution): channel mean of squares,
#   L2-normalised per image, lambda = 10000 (mmseg_kd/losses/attention_transfer.py);
# * pixel-wise KD on the 1/8 logits (./kd.py).
_base_ = ['./kd.py']
at_losses = dict(
    loss_at=dict(type='AttentionTransfer', normalize='image', loss_weight=10000.,
                 student='decode_head.bottleneck', teacher='decode_head.bottleneck'),
    loss_kd=_base_.kd_losses.loss_kd)
