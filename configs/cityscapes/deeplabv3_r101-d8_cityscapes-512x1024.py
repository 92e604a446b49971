# DeepLabV3-R101-D8 (mmseg) on Cityscapes, 512x1024 crops: the teacher of CIRKD's protocol.
_base_ = ['mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py']
