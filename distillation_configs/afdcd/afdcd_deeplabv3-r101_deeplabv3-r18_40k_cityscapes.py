# Af-DCD (Fan et al., NeurIPS 2023) at CIRKD's Cityscapes protocol: DeepLabV3-R101 -> DeepLabV3-R18, 512x1024 crops,
# 40k iterations, 8 GPUs x 2 images, SGD lr 0.02, momentum 0.9, weight decay 1e-4, poly 0.9 (Af-DCD's parser
# defaults). Published (Af-DCD README, val mIoU): student 74.21 -> 77.03 with CIRKD's 78.07 teacher
# (docs/methods/afdcd.md; the released script's mask and projector flags are rejected by its parser, this
# config has the parser's defaults). Losses, taps and weights: ../_base_/methods/afdcd.py.
#   bash tools/dist_train.sh distillation_configs/afdcd/afdcd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py 8
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 (80.2 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# afdcd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py',
          '../_base_/methods/afdcd.py']
model = dict(tap_check_input_size=_base_.afdcd_tap_check_input_size, distill_losses=_base_.afdcd_losses)
