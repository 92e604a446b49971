# Af-DCD with CIRKD's own networks (configs/*/cirkd-*): as afdcd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_
# cityscapes.py with the MobileNetV2 student, whose c4 is backbone.layer7 (320 channels) and which has no auxiliary
# head. Released script: train_scripts/cityscape/deeplabv3_r101_mbv2_r18_v2_ocmgd.sh (the parser's random mask
# and plain projector). Published (Af-DCD README, val mIoU): student 73.12 -> 76.43.
# Teacher: CIRKD's released Cityscapes DeepLabV3-R101 (78.07 mIoU), converted with
# tools/model_converters/cirkd2mmseg.py (the command is in the protocol base).
_base_ = ['./afdcd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_cityscapes.py']
model = dict(
    student=dict(
        cfg_path='{{fileDirname}}/../../configs/cityscapes/cirkd-deeplabv3_mobilenetv2-d8_cityscapes-512x1024.py'),
    distill_losses=dict(loss_afdcd=dict(student='backbone.layer7')))
