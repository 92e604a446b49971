# MGD (Yang et al., ECCV 2022) at CIRKD's Cityscapes protocol with CIRKD's own networks (configs/*/cirkd-*):
# DeepLabV3-R101 -> DeepLabV3-R18, 512x1024 crops, 40k iterations, 8 GPUs x 2 images, MGD's losses and weights
# (../_base_/methods/mgd.py), for a comparison with the CIRKD-protocol methods. MGD publishes no result at this
# protocol; its own (PSPNet-R101 teacher, 512x512 crops, mmseg's schedule) reports DeepLabV3-R18 73.20 -> 76.31:
# mgd_pspnet-r101_deeplabv3-r18_40k_cityscapes.py.
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['../_base_/cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py',
          '../_base_/methods/mgd.py']
model = dict(distill_losses=_base_.mgd_losses)
