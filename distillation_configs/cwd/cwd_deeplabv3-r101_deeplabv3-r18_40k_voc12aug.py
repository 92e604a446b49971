# Channel-wise distillation as CIRKD's CWD baseline: DeepLabV3-R101 -> DeepLabV3-R18, Pascal VOC 2012 + SBD, 512x512
# crops, 40k (CIRKD's protocol; CIRKD publishes no VOC number for CWD). Losses (pixel KD, CWD on logits and on the
# head feature, SKD's holistic adversarial term), taps and weights: ../_base_/methods/cwd_cirkd-baseline.py.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512 (77.92 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# cwd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_voc12aug.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_voc12aug.py',
          '../_base_/methods/cwd_cirkd-baseline.py']
model = dict(
    tap_check_input_size=(512, 512),  # the discriminator needs 1/8 logits of at least 64x64
    distill_losses=_base_.cwd_losses)
