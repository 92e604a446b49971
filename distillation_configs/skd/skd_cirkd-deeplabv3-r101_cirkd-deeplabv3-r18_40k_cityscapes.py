# SKD (Liu et al., CVPR 2019) as CIRKD's baseline (winycg/CIRKD at 2d8ad0f), CIRKD's Cityscapes protocol (512x1024
# crops, 40k iterations, 8 GPUs x 2 images), CIRKD's own networks (configs/*/cirkd-*): DeepLabV3-R101 ->
# DeepLabV3-R18. Published in CIRKD (Cityscapes val, its 78.07 teacher): R18 74.21 -> 75.42. Losses, taps and weights:
# ../_base_/methods/skd.py.
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py',
          '../_base_/methods/skd.py']
model = dict(
    tap_check_input_size=(512, 512),  # the discriminator needs 1/8 logits of at least 64x64
    distill_losses=_base_.skd_losses)
