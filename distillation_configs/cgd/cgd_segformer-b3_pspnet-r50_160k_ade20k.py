# Channel-group distillation (SegDistill CGD: groups of 5, tau 2, weight 3 without tau^2 = 0.75 here): SegFormer-B3 ->
# PSPNet-R50 on ADE20K, 160k.
_base_ = ['../_base_/segdistill_segformer-b3_pspnet-r50_160k_ade20k.py']
model = dict(distill_losses=dict(
    loss_cgd=dict(type='ChannelGroupDivergence', tau=2.0, group_size=5, loss_weight=0.75,
                      student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
