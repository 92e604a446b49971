# CIRKD at CIRKD's Pascal VOC protocol: DeepLabV3-R101 -> DeepLabV3-R18 on voc12aug, 512x512 crops, 40k
# iterations, 8 GPUs x 2 images, SGD lr 0.02, weight decay 1e-4, poly 0.9; memory losses weighted 0.01
# (CIRKD issue #8 and its VOC scripts). Published (CIRKD README, val mIoU): student 73.21 -> 74.50.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512 (77.92 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# cirkd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_voc12aug.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_voc12aug.py',  # models, data, schedule
          '../_base_/methods/cirkd.py']

model = dict(distill_losses=dict(
    _base_.cirkd_losses, loss_memory=dict(_base_.cirkd_losses.loss_memory, num_classes=21, loss_weight=0.01)))

# checkpoints hold the memory queues (21 x 22,000 x 512 floats = 946 MB): keep the last two
default_hooks = dict(checkpoint=dict(max_keep_ckpts=2))
