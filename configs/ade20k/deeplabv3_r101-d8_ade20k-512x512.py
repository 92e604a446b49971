# DeepLabV3-R101-D8 (mmseg) on ADE20K, 512x512 crops.
_base_ = ['mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-80k_ade20k-512x512.py']
