# Channel-wise distillation as CIRKD's CWD baseline: DeepLabV3-R101 -> DeepLabV3-MobileNetV2, Cityscapes, 512x1024
# crops, 40k (CIRKD's protocol). Published in CIRKD (Cityscapes val): MobileNetV2 73.12 -> 74.66. Losses, taps and
# weights: ../_base_/methods/cwd_cirkd-baseline.py. mmseg's MobileNetV2 DeepLabV3 head has the teacher's 512
# channels, so the feature term needs no 1x1 conv (CIRKD's code applies it only when the channel counts differ).
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 (80.2 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# cwd_cirkd-deeplabv3-r101_cirkd-deeplabv3-mobilenetv2_40k_cityscapes.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-mobilenetv2_40k_cityscapes.py',
          '../_base_/methods/cwd_cirkd-baseline.py']
model = dict(
    tap_check_input_size=(512, 512),  # the discriminator needs 1/8 logits of at least 64x64
    distill_losses=dict(_base_.cwd_losses,
                        loss_cwd_feature=dict(_base_.cwd_losses.loss_cwd_feature, connector=None)))
