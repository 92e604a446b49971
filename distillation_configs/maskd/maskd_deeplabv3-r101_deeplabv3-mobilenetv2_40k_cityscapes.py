# MasKD at CIRKD's Cityscapes protocol (512x1024 crops, 40k iterations, 8 GPUs x 2 images), mmseg's DeepLabV3-R101 ->
# DeepLabV3-MobileNetV2. Published with the paper's networks (MasKD segmentation/README.md, val mIoU): student
# 73.12 -> 75.26. Losses and MasKD's optimizer switches: ../_base_/methods/maskd.py: the decode-head term only (the
# released trainer adds the auxiliary term for ResNet students only) and weight decay 2e-4, as the released
# MobileNetV2 script passes.
# Tokens: the same file as the DeepLabV3-R18 config (they belong to the teacher), written by
#   python tools/learn_receptive_tokens.py distillation_configs/maskd/<this file>
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 (80.2 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# maskd_cirkd-deeplabv3-r101_cirkd-deeplabv3-mobilenetv2_40k_cityscapes.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-mobilenetv2_40k_cityscapes.py',
          '../_base_/methods/maskd.py']
maskd_tokens = 'checkpoints/maskd-tokens_deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.pth'
model = dict(distill_losses=dict(loss_maskd=dict(_base_.maskd_losses.loss_maskd, tokens=maskd_tokens)))
optim_wrapper = _base_.maskd_mobilenetv2_optim_wrapper
param_scheduler = _base_.maskd_param_scheduler
