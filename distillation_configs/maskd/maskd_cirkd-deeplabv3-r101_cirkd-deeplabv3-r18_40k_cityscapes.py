# MasKD (Huang et al., ICLR 2023) at CIRKD's Cityscapes protocol, as in MasKD's segmentation experiments (512x1024
# crops, 40k iterations, 8 GPUs x 2 images), CIRKD's own networks (configs/*/cirkd-*): DeepLabV3-R101 -> DeepLabV3-R18.
# Published (MasKD segmentation/README.md, val mIoU, CIRKD's 78.07 teacher): student 74.21 -> 77.00. Losses, taps and
# MasKD's optimizer switches: ../_base_/methods/maskd.py (with the auxiliary-logit term at 0.4).
# Tokens: learn them once on the teacher (10k iterations, the first stage of MasKD) before training:
#   python tools/learn_receptive_tokens.py distillation_configs/maskd/<this file>
# which writes checkpoints/maskd-tokens_cirkd-deeplabv3_r101-d8_cityscapes-512x1024.pth (docs/methods/maskd.md).
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py',
          '../_base_/methods/maskd.py']
maskd_tokens = 'checkpoints/maskd-tokens_cirkd-deeplabv3_r101-d8_cityscapes-512x1024.pth'
model = dict(distill_losses=dict(
    loss_maskd=dict(_base_.maskd_losses.loss_maskd, tokens=maskd_tokens),
    loss_maskd_aux=dict(_base_.maskd_losses.loss_maskd_aux, tokens=maskd_tokens)))
optim_wrapper = _base_.maskd_optim_wrapper
param_scheduler = _base_.maskd_param_scheduler
