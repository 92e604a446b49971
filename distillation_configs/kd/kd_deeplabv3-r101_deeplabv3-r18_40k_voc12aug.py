# Pixel-wise KD at the heads' 1/8 resolution (CIRKD's KD baseline: tau 1, weight 1, no mask), CIRKD's Pascal VOC 2012
# + SBD protocol (512x512 crops, 40k iterations, 8 GPUs x 2 images), mmseg's DeepLabV3-R101 -> DeepLabV3-R18. CIRKD's
# README reports no KD-only number (student 73.21). Losses: ../_base_/methods/kd.py.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512 (77.92 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# kd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_voc12aug.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_voc12aug.py',
          '../_base_/methods/kd.py']
model = dict(distill_losses=_base_.kd_losses)
