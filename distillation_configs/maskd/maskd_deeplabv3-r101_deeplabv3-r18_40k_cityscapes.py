# MasKD (Huang et al., ICLR 2023) at CIRKD's Cityscapes protocol (512x1024 crops, 40k iterations, 8 GPUs x 2 images),
# mmseg's DeepLabV3-R101 -> DeepLabV3-R18. Published with the paper's networks (MasKD segmentation/README.md, val
# mIoU): student 74.21 -> 77.00. Losses, taps and MasKD's optimizer switches: ../_base_/methods/maskd.py (with the
# auxiliary-logit term at 0.4).
# Tokens: they belong to the teacher, so this zoo teacher needs its own first stage (10k iterations):
#   python tools/learn_receptive_tokens.py distillation_configs/maskd/<this file>
# which writes checkpoints/maskd-tokens_deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.pth (docs/methods/maskd.md).
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 (80.2 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# maskd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py',
          '../_base_/methods/maskd.py']
maskd_tokens = 'checkpoints/maskd-tokens_deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.pth'
model = dict(distill_losses=dict(
    loss_maskd=dict(_base_.maskd_losses.loss_maskd, tokens=maskd_tokens),
    loss_maskd_aux=dict(_base_.maskd_losses.loss_maskd_aux, tokens=maskd_tokens)))
optim_wrapper = _base_.maskd_optim_wrapper
param_scheduler = _base_.maskd_param_scheduler
