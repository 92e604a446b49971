# DeepLabV3 with a MobileNetV2-D8 backbone (mmseg) on Cityscapes, 512x1024 crops.
_base_ = ['mmseg::mobilenet_v2/mobilenet-v2-d8_deeplabv3_4xb2-80k_cityscapes-512x1024.py']
