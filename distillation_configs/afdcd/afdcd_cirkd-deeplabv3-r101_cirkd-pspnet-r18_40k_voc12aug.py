# Af-DCD with CIRKD's own networks (configs/*/cirkd-*): as afdcd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_
# voc12aug.py with the PSPNet-R18 student (train_scripts/voc/pspnet_res18.sh, same weights). Published (Af-DCD
# README, val mIoU): student 73.33 -> 76.14.
# Teacher: CIRKD's released VOC DeepLabV3-R101, converted with tools/model_converters/cirkd2mmseg.py (the command
# is in the protocol base).
_base_ = ['./afdcd_cirkd-deeplabv3-r101_cirkd-deeplabv3-r18_40k_voc12aug.py']
model = dict(student=dict(
    cfg_path='{{fileDirname}}/../../configs/voc12aug/cirkd-pspnet_r18-d8_voc12aug-512x512.py'))
