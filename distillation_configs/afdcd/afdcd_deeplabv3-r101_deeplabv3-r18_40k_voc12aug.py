# Af-DCD (Fan et al., NeurIPS 2023) at CIRKD's Pascal VOC protocol: DeepLabV3-R101 -> DeepLabV3-R18, 512x512 crops,
# 40k iterations, 8 GPUs x 2 images; KD 1, generation 1e-6, contrast 0.005 (train_scripts/voc/deeplabv3_res18.sh).
# Published (Af-DCD README, val mIoU): student 73.21 -> 76.25 with CIRKD's VOC teacher. Losses and taps:
# ../_base_/methods/afdcd.py.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512 (77.92 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# afdcd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_voc12aug.py.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_voc12aug.py',
          '../_base_/methods/afdcd.py']
model = dict(tap_check_input_size=_base_.afdcd_tap_check_input_size,
             distill_losses=dict(_base_.afdcd_losses,
                                 loss_afdcd=dict(_base_.afdcd_losses.loss_afdcd, generation_weight=1e-6)))
