# Pixel-wise KD (SegDistill "PD": tau 1, weight 1): SegFormer-B3 -> PSPNet-R50 on ADE20K, 160k.
_base_ = ['../_base_/segdistill_segformer-b3_pspnet-r50_160k_ade20k.py', '../_base_/methods/kd.py']
model = dict(distill_losses=_base_.kd_losses)
