# Attention transfer (Zagoruyko & Komodakis, ICLR 2017) as CIRKD's baseline (winycg/CIRKD at 2d8ad0f), CIRKD's
# Cityscapes protocol (512x1024 crops, 40k iterations, 8 GPUs x 2 images), CIRKD's own networks (configs/*/cirkd-*):
# DeepLabV3-R101 -> DeepLabV3-R18. CIRKD's README reports no number for it. Losses, taps and weights:
# ../_base_/methods/at.py.
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py',
          '../_base_/methods/at.py']
model = dict(distill_losses=_base_.at_losses)
