# DIST (Huang et al., NeurIPS 2022) at CIRKD's Cityscapes protocol, as in DIST's segmentation experiments (512x1024
# crops, 40k iterations, 8 GPUs x 2 images), CIRKD's own networks (configs/*/cirkd-*): DeepLabV3-R101 ->
# DeepLabV3-R18. Published (DIST_KD README, val mIoU, CIRKD's 78.07 teacher): R18 74.21 -> 77.10 (a reproduction
# reports 76.31 -> 77.54). Losses and DIST's optimizer switches: ../_base_/methods/dist.py.
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py',
          '../_base_/methods/dist.py']
model = dict(distill_losses=_base_.dist_losses)
optim_wrapper = _base_.dist_optim_wrapper
param_scheduler = _base_.dist_param_scheduler
