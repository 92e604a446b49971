# Pixel-wise KD at the heads' 1/8 resolution (CIRKD's KD baseline: tau 1, weight 1, no mask), CIRKD's Cityscapes
# protocol (512x1024 crops, 40k iterations, 8 GPUs x 2 images), CIRKD's own networks (configs/*/cirkd-*):
# DeepLabV3-R101 -> DeepLabV3-MobileNetV2. CIRKD's README reports no KD-only number (student 73.12). Losses, taps and
# weights: ../_base_/methods/kd.py.
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-mobilenetv2_40k_cityscapes.py',
          '../_base_/methods/kd.py']
model = dict(distill_losses=_base_.kd_losses)
