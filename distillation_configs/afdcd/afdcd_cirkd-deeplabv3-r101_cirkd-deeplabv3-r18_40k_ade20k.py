# Af-DCD (Fan et al., NeurIPS 2023) at CIRKD's ADE20K protocol with CIRKD's own networks (configs/*/cirkd-*):
# DeepLabV3-R101 -> DeepLabV3-R18, 512x512 crops, 40k iterations, 8 GPUs x 2 images; train_scripts/ade20k/
# deeplabv3_res18.sh: KD 0.5, generation 1e-6, contrast 0.04. Published (Af-DCD README, val mIoU): student
# 33.91 -> 36.21. Losses and taps: ../_base_/methods/afdcd.py.
# Teacher: CIRKD's released ADE20K DeepLabV3-R101 (42.70 mIoU), converted with tools/model_converters/cirkd2mmseg.py
# (the command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_ade20k.py',
          '../_base_/methods/afdcd.py']
model = dict(tap_check_input_size=_base_.afdcd_tap_check_input_size,
             distill_losses=dict(loss_kd=dict(_base_.afdcd_losses.loss_kd, loss_weight=0.5),
                                 loss_afdcd=dict(_base_.afdcd_losses.loss_afdcd, generation_weight=1e-6,
                                                 contrast_weight=0.04)))
