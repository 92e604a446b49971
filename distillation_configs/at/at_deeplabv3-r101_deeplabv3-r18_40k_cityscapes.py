# Attention transfer (Zagoruyko & Komodakis, ICLR 2017) as CIRKD's baseline (winycg/CIRKD at 2d8ad0f), CIRKD's
# Cityscapes protocol (512x1024 crops, 40k iterations, 8 GPUs x 2 images), mmseg's DeepLabV3-R101 -> DeepLabV3-R18.
# CIRKD's README reports no number for it. Losses, taps and weights: ../_base_/methods/at.py.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 (80.2 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# at_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py',
          '../_base_/methods/at.py']
model = dict(distill_losses=_base_.at_losses)
