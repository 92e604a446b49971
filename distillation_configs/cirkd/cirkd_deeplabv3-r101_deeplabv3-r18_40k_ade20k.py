# CIRKD at CIRKD's ADE20K protocol: DeepLabV3-R101 -> DeepLabV3-R18, 512x512 crops, 40k iterations,
# 8 GPUs x 2 images, SGD lr 0.02, weight decay 1e-4, poly 0.9; CIRKD's default weights (memory 0.1).
# Published (CIRKD README, val mIoU): student 33.91 -> 35.41.
# Memory: 150 classes x 22,000 entries x 512 channels = 6.8 GB of queues on every GPU and in every
# checkpoint (CIRKD's 256-channel teacher: 3.4 GB); lower pixel_memory_size if that does not fit.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb4-160k_ade20k-512x512 (45.0 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# cirkd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_ade20k.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_ade20k.py',  # models, data, schedule
          '../_base_/methods/cirkd.py']

model = dict(distill_losses=dict(
    _base_.cirkd_losses, loss_memory=dict(_base_.cirkd_losses.loss_memory, num_classes=150)))

default_hooks = dict(checkpoint=dict(max_keep_ckpts=1))  # one 6.8 GB checkpoint at a time
