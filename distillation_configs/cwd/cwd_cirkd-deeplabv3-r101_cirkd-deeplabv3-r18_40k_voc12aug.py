# Channel-wise distillation as CIRKD's CWD baseline, CIRKD's Pascal VOC 2012 + SBD protocol (512x512 crops, 40k
# iterations, 8 GPUs x 2 images), CIRKD's own networks (configs/*/cirkd-*): DeepLabV3-R101 -> DeepLabV3-R18. CIRKD
# publishes no Pascal VOC number for it (student 73.21). Losses, taps and weights:
# ../_base_/methods/cwd_cirkd-baseline.py.
# Teacher: CIRKD's Pascal VOC DeepLabV3-R101 (77.67 mIoU), converted with tools/model_converters/cirkd2mmseg.py (the
# command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_voc12aug.py',
          '../_base_/methods/cwd_cirkd-baseline.py']
model = dict(
    tap_check_input_size=(512, 512),  # the discriminator needs 1/8 logits of at least 64x64
    distill_losses=_base_.cwd_losses)
