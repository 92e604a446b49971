# DeepLabV3-R101-D8 (mmseg) on Pascal VOC 2012 + SBD (voc12aug), 512x512 crops.
_base_ = ['mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512.py']
