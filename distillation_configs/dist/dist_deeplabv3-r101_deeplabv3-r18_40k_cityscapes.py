# DIST (Huang et al., NeurIPS 2022) at CIRKD's Cityscapes protocol, as in DIST's segmentation experiments (512x1024
# crops, 40k iterations, 8 GPUs x 2 images), mmseg's DeepLabV3-R101 -> DeepLabV3-R18. Published (DIST_KD README, val
# mIoU, CIRKD's 78.07 teacher): R18 74.21 -> 77.10 (a reproduction reports 76.31 -> 77.54). Losses and DIST's
# optimizer switches: ../_base_/methods/dist.py.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 (80.2 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# dist_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py',
          '../_base_/methods/dist.py']
model = dict(distill_losses=_base_.dist_losses)
optim_wrapper = _base_.dist_optim_wrapper
param_scheduler = _base_.dist_param_scheduler
