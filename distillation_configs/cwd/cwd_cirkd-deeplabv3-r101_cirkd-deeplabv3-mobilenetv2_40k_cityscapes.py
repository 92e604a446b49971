# Channel-wise distillation as CIRKD's CWD baseline, CIRKD's Cityscapes protocol (512x1024 crops, 40k iterations, 8
# GPUs x 2 images), CIRKD's own networks (configs/*/cirkd-*): DeepLabV3-R101 -> DeepLabV3-MobileNetV2. Published in
# CIRKD (Cityscapes val): MobileNetV2 73.12 -> 74.66. Losses, taps and weights:
# ../_base_/methods/cwd_cirkd-baseline.py. The feature term keeps its 1x1 conv: CIRKD's MobileNetV2 head is 128 wide,
# its teacher's 256.
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-mobilenetv2_40k_cityscapes.py',
          '../_base_/methods/cwd_cirkd-baseline.py']
model = dict(
    tap_check_input_size=(512, 512),  # the discriminator needs 1/8 logits of at least 64x64
    distill_losses=_base_.cwd_losses)
