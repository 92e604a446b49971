# Channel-wise distillation (SegDistill "CD": tau 1, weight 1): SegFormer-B3 -> Swin-T UPerNet on ADE20K, 160k.
_base_ = ['../_base_/segdistill_segformer-b3_upernet-swin-t_160k_ade20k.py']
model = dict(distill_losses=dict(
    loss_cwd=dict(type='ChannelWiseDivergence', tau=1.0, loss_weight=1.0,
                      student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
