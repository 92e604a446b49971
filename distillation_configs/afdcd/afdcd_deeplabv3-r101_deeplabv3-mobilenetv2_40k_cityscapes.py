# Af-DCD at CIRKD's Cityscapes protocol: DeepLabV3-R101 -> DeepLabV3-MobileNetV2 (same losses, weights and schedule
# as the R18 config; the student's c4 is backbone.layer7, 320 channels). Published (Af-DCD README, val mIoU): student
# 73.12 -> 76.43 with CIRKD's 78.07 teacher.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024 (80.2 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# afdcd_cirkd-deeplabv3-r101_cirkd-deeplabv3-mobilenetv2_40k_cityscapes.py.
_base_ = ['./afdcd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']
model = dict(
    student=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_mobilenetv2-d8_cityscapes-512x1024.py'),
    distill_losses=dict(loss_afdcd=dict(student='backbone.layer7')))
