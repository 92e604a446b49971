# Overhaul of feature distillation: DeepLabV3+-R101 -> DeepLabV3+-MobileNetV2 on Pascal VOC 2012 + SBD.
# Published (reference code, VOC val): MobileNetV2 68.46 -> 71.19. Same recipe as the R18 config; the student
# positions are the expansion 1x1 conv + BN of the first block of the 32-, 64- and 160-channel stages
# (pre-ReLU6) and the output of the last block (linear bottleneck), as the reference's features[4], [7], [14],
# [-1]. The authors suggest a smaller weight for MobileNetV2 students (overhaul-distillation#12); the README
# numbers use the same 1e-5.
# Teacher: mmseg's model zoo, deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512 (78.62 mIoU; URL and hash in the
# protocol base). The same setting with the paper's networks and teacher:
# overhaul_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-mobilenetv2_44k_voc12aug.py.
_base_ = ['./overhaul_deeplabv3plus-r101_deeplabv3plus-r18_44k_voc12aug.py']

model = dict(
    student=dict(
        cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3plus_mobilenetv2-d8_voc12aug-512x512.py'),
    distill_losses=dict(
        loss_ofd_layer1=dict(student='backbone.layer3.0.conv.0.bn'),
        loss_ofd_layer2=dict(student='backbone.layer4.0.conv.0.bn'),
        loss_ofd_layer3=dict(student='backbone.layer6.0.conv.0.bn'),
        loss_ofd_layer4=dict(student='backbone.layer7')))
