# CIRKD (Yang et al., CVPR 2022) at CIRKD's Pascal VOC protocol with CIRKD's own networks (configs/*/cirkd-*):
# DeepLabV3-R101 -> DeepLabV3-R18, CIRKD's 40k schedule. Published (CIRKD README, val mIoU): student 73.21 -> 74.50.
# Losses, taps and weights: ../_base_/methods/cirkd.py. Memory losses weighted 0.01 (CIRKD issue #8 and its VOC
# scripts).
# Teacher: CIRKD's Pascal VOC DeepLabV3-R101 (77.67 mIoU), converted with tools/model_converters/cirkd2mmseg.py (the
# command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_voc12aug.py',
          '../_base_/methods/cirkd.py']

model = dict(distill_losses=dict(
    _base_.cirkd_losses, loss_memory=dict(_base_.cirkd_losses.loss_memory, num_classes=21, loss_weight=0.01)))

default_hooks = dict(checkpoint=dict(max_keep_ckpts=2))  # checkpoints hold the memory queues
