# CIRKD (Yang et al., CVPR 2022) at CIRKD's ADE20K protocol with CIRKD's own networks (configs/*/cirkd-*):
# DeepLabV3-R101 -> DeepLabV3-R18, CIRKD's 40k schedule. Published (CIRKD README, val mIoU): student 33.91 -> 35.41.
# Losses, taps and weights: ../_base_/methods/cirkd.py. Memory: 150 classes x 22,000 entries x 256 channels = 3.4 GB
# of queues on every GPU and in every checkpoint; lower pixel_memory_size if that does not fit.
# Teacher: CIRKD's released ADE20K DeepLabV3-R101 (42.70 mIoU), converted with tools/model_converters/cirkd2mmseg.py
# (the command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_ade20k.py',
          '../_base_/methods/cirkd.py']

model = dict(distill_losses=dict(
    _base_.cirkd_losses, loss_memory=dict(_base_.cirkd_losses.loss_memory, num_classes=150)))

default_hooks = dict(checkpoint=dict(max_keep_ckpts=1))  # checkpoints hold the memory queues
