# Pixel-wise + pair-wise distillation of "An Efficient Knowledge Distillation Architecture for Real-time Semantic
# Segmentation" (Mansourian et al., AUT journal; AmirMansurian/KD, code in the AICSD repository history) between
# mmseg's DeepLabV3+ heads: the losses, taps and weights, for the reference's batch of 6.
#
# * pixel-wise: attention maps (channel mean of squares, L2-normalised per image) of the last decoder conv + BN before
#   its ReLU; lambda_pi = 100 (mmseg_kd/losses/attention_transfer.py). normalize='column' reproduces the reference
#   code's per-column normalisation.
# * pair-wise: cosine similarities of 2x2 max-pooled nodes (kernel = half the map, ceil mode) of the ASPP fusion conv +
#   BN before its ReLU, norm detached as the reference; lambda_pa = 1 (pairwise_similarity.py).
# Both are added to a CE divided by the batch size B = 6 in the reference, so with mmseg's CE the weights are 100 * 6
# and 1 * 6. No connectors: both losses compare maps of different channel counts.
efficientkd_losses = dict(
    loss_pixel=dict(
        type='AttentionTransfer', normalize='image', loss_weight=100. * 6,
        student='decode_head.sep_bottleneck.1.pointwise_conv.bn',
        teacher='decode_head.sep_bottleneck.1.pointwise_conv.bn'),
    loss_pair=dict(
        type='PairwiseSimilarityDistillation', pool_scale=0.5, detach_norm=True, loss_weight=1. * 6,
        student='decode_head.bottleneck.bn', teacher='decode_head.bottleneck.bn'))
