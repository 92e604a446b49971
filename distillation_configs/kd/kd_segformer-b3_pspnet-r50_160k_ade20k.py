# Pixel-wise KD (SegDistill "PD": tau 1, weight 1): SegFormer-B3 -> PSPNet-R50 on ADE20K, 160k.
_base_ = ['../_base_/segdistill_segformer-b3_pspnet-r50_160k_ade20k.py']
model = dict(distill_losses=dict(
    loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.0,
                     student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
