# Pixel-wise KD at the heads' 1/8 resolution (CIRKD's KD baseline: tau 1, weight 1, no mask), CIRKD's Pascal VOC 2012
# + SBD protocol (512x512 crops, 40k iterations, 8 GPUs x 2 images), CIRKD's own networks (configs/*/cirkd-*):
# DeepLabV3-R101 -> DeepLabV3-R18. CIRKD's README reports no KD-only number (student 73.21). Losses, taps and weights:
# ../_base_/methods/kd.py.
# Teacher: CIRKD's Pascal VOC DeepLabV3-R101 (77.67 mIoU), converted with tools/model_converters/cirkd2mmseg.py (the
# command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_voc12aug.py',
          '../_base_/methods/kd.py']
model = dict(distill_losses=_base_.kd_losses)
