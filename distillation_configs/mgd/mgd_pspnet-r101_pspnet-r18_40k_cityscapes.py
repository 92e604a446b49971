# MGD (Yang et al., ECCV 2022) at MGD's own Cityscapes protocol: PSPNet-R101 -> PSPNet-R18, 512x512 crops, mmseg's
# 40k schedule, 8 GPUs x 2 images (seg/configs/distillers/mgd/psp_r101_distill_psp_r18_40k_512x512_city.py).
# Published (MGD seg/README.md, val mIoU): student 69.85 -> 73.63. Losses, taps and weights:
# ../_base_/methods/mgd.py (generation alpha 2e-5, CWD on the logits tau 4 weight 3).
#   bash tools/dist_train.sh distillation_configs/mgd/mgd_pspnet-r101_pspnet-r18_40k_cityscapes.py 8
# Teacher: mmseg's model zoo, pspnet_r101-d8_4xb2-80k_cityscapes-512x1024 (79.76 mIoU; URL and hash in the protocol
# base, which also names MGD's 40k teacher). The same setting with the paper's networks and teacher:
# mgd_cirkd-deeplabv3-r101_cirkd-pspnet-r18_40k_cityscapes.py.
_base_ = ['../_base_/mgd-protocol_pspnet-r101_pspnet-r18_40k_cityscapes.py', '../_base_/methods/mgd.py']
model = dict(distill_losses=_base_.mgd_losses)
