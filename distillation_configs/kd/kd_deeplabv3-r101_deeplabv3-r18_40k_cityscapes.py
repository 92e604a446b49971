# Pixel-wise KD at the heads' 1/8 resolution (CIRKD's KD baseline: tau 1, weight 1, no mask): DeepLabV3-R101 -> DeepLabV3-R18, Cityscapes, 512x1024 crops, 40k.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']
model = dict(distill_losses=dict(
    loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.0,
                     student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
