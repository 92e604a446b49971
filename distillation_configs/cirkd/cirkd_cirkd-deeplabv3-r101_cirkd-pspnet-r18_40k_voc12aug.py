# CIRKD with CIRKD's own networks (configs/*/cirkd-*): as
# cirkd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_voc12aug.py with another student. Published (CIRKD README, val
# mIoU): student 73.33 -> 74.78.
# Teacher: CIRKD's Pascal VOC DeepLabV3-R101 (77.67 mIoU), converted with tools/model_converters/cirkd2mmseg.py (the
# command is in the protocol base).
_base_ = ['./cirkd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_voc12aug.py']

model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/voc12aug/cirkd-pspnet_r18-d8_voc12aug-512x512.py'))
