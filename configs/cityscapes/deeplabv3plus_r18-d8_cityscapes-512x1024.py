# DeepLabV3+-R18-D8 (mmseg) on Cityscapes, 512x1024 crops.
_base_ = ['mmseg::deeplabv3plus/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py']
