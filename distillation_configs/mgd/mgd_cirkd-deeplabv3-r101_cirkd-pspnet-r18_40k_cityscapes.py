# MGD with CIRKD's own networks (configs/*/cirkd-*): as mgd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_
# cityscapes.py with the PSPNet-R18 student. MGD publishes no result at this protocol; its own reports PSPNet-R18
# 69.85 -> 73.63: mgd_pspnet-r101_pspnet-r18_40k_cityscapes.py.
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['./mgd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py']
model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/cirkd-pspnet_r18-d8_cityscapes-512x1024.py'))
