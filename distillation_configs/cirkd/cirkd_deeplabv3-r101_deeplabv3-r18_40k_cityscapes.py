# CIRKD (Yang et al., CVPR 2022) at CIRKD's Cityscapes protocol: DeepLabV3-R101 -> DeepLabV3-R18,
# 512x1024 crops, 40k iterations, 8 GPUs x 2 images, SGD lr 0.02, momentum 0.9, weight decay 1e-4, poly 0.9.
# Published (CIRKD README, val mIoU): student 74.21 -> 76.38 with CIRKD's 78.07 teacher
# (docs/methods/cirkd.md). Losses, taps and weights: ../_base_/methods/cirkd.py.
#   bash tools/dist_train.sh distillation_configs/cirkd/cirkd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py 8
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 (80.2 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# cirkd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py',  # models, data, schedule
          '../_base_/methods/cirkd.py']

model = dict(distill_losses=dict(
    _base_.cirkd_losses, loss_memory=dict(_base_.cirkd_losses.loss_memory, num_classes=19)))

# Checkpoints hold the memory queues (19 x 22,000 x 512 floats = 856 MB): keep the last two.
default_hooks = dict(checkpoint=dict(max_keep_ckpts=2))
