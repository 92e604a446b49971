# MGD (Yang et al., ECCV 2022) at MGD's own Cityscapes protocol: PSPNet-R101 -> DeepLabV3-R18 (mmseg's, head channels
# 128), same losses and schedule as the PSPNet-R18 config (seg/configs/distillers/mgd/
# psp_r101_distill_deepv3_r18_40k_512x512_city.py). Published (MGD seg/README.md, val mIoU): student 73.20 -> 76.31.
# Teacher: mmseg's model zoo, pspnet_r101-d8_4xb2-80k_cityscapes-512x1024 (79.76 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# mgd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py.
_base_ = ['./mgd_pspnet-r101_pspnet-r18_40k_cityscapes.py']
model = dict(student=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_r18-d8_cityscapes-512x1024.py'))
