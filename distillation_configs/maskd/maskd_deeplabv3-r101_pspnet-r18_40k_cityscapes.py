# MasKD at CIRKD's Cityscapes protocol: as maskd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py with the PSPNet-R18
# student (the same tokens: they belong to the teacher). Published with the paper's networks (MasKD
# segmentation/README.md, val mIoU): student 72.55 -> 75.34.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 (80.2 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# maskd_cirkd-deeplabv3-r101_cirkd-pspnet-r18_40k_cityscapes.py.
_base_ = ['./maskd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/pspnet_r18-d8_cityscapes-512x1024.py'))
