# DIST at CIRKD's Cityscapes protocol: as dist_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py with the
# PSPNet-R18 student. Published (DIST_KD README, val mIoU): student 72.55 -> 76.31.
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['./dist_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/cirkd-pspnet_r18-d8_cityscapes-512x1024.py'))
