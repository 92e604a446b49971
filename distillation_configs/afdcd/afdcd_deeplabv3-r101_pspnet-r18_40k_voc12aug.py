# Af-DCD at CIRKD's Pascal VOC protocol: DeepLabV3-R101 -> PSPNet-R18 (same losses, weights and schedule as the
# DeepLabV3-R18 VOC config; train_scripts/voc/pspnet_res18.sh). Published (Af-DCD README, val mIoU): student
# 73.33 -> 76.14 with CIRKD's VOC teacher.
# Teacher: mmseg's model zoo, deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512 (77.92 mIoU; URL and hash in the protocol
# base). The same setting with the paper's networks and teacher:
# afdcd_cirkd-deeplabv3-r101_cirkd-pspnet-r18_40k_voc12aug.py.
_base_ = ['./afdcd_deeplabv3-r101_deeplabv3-r18_40k_voc12aug.py']
model = dict(student=dict(cfg_path='{{fileDirname}}/../../configs/voc12aug/pspnet_r18-d8_voc12aug-512x512.py'))
