# MasKD with CIRKD's own networks (configs/*/cirkd-*): as
# maskd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py with the PSPNet-R18 student (the same tokens: they
# belong to the teacher). Published (MasKD segmentation/README.md, val mIoU): student 72.55 -> 75.34.
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['./maskd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/cirkd-pspnet_r18-d8_cityscapes-512x1024.py'))
