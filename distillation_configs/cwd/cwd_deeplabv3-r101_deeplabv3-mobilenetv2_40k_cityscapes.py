# Channel-wise distillation on logits (CIRKD's re-implementation: tau 4, weight 3): DeepLabV3-R101 -> DeepLabV3-MobileNetV2, Cityscapes, 512x1024 crops, 40k.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-mobilenetv2_40k_cityscapes.py']
model = dict(distill_losses=dict(
    loss_cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=3.0,
                      student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
