# Channel-wise distillation on logits (CIRKD's re-implementation: tau 4, weight 3): DeepLabV3-R101 -> DeepLabV3-R18, Pascal VOC 2012 + SBD, 512x512 crops, 40k.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_voc12aug.py']
model = dict(distill_losses=dict(
    loss_cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=3.0,
                      student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
