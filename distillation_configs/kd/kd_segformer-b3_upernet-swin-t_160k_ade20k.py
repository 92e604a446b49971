# Pixel-wise KD (SegDistill "PD": tau 1, weight 1): SegFormer-B3 -> Swin-T UPerNet on ADE20K, 160k.
_base_ = ['../_base_/segdistill_segformer-b3_upernet-swin-t_160k_ade20k.py', '../_base_/methods/kd.py']
model = dict(distill_losses=_base_.kd_losses)
