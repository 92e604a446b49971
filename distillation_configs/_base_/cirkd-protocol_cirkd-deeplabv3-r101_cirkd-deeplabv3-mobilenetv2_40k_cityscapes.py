# CIRKD's Cityscapes protocol with CIRKD's own networks and its DeepLabV3-MobileNetV2 student: the protocol of
# ./cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py with another student. Student
# initialisation: CIRKD's mobilenetv2-imagenet.pth, converted to checkpoints/cirkd-mobilenetv2_imagenet.pth.
_base_ = ['./cirkd-protocol_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/cityscapes/cirkd-deeplabv3_mobilenetv2-d8_cityscapes-512x1024.py'))
