# Overhaul of feature distillation with the paper's networks: as
# overhaul_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_44k_voc12aug.py with the DeepLabV3+-MobileNetV2
# student (ImageNet weights: checkpoints/jfzhang95-mobilenetv2_imagenet.pth). Published (Overhaul README, VOC val):
# MobileNetV2 68.46 -> 71.19. The student positions are the expansion 1x1 conv + BN of the first block of the 32-, 64-
# and 160-channel stages (pre-ReLU6) and the output of the last block (linear bottleneck), the reference's features[4],
# [7], [14], [-1]. The lineage's blocks pad their input before the expansion conv, so those maps carry a 1-pixel border
# that the reference's extract_feature (expansion on the unpadded input) does not: the connectors cut it off
# (crop_to_teacher=True) before their 1x1 conv and BN.
# Teacher: jfzhang95's deeplab-resnet.pth.tar, as the R18 config.
_base_ = ['./overhaul_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_44k_voc12aug.py']

cropping_connector = dict(type='ConvBNConnector', crop_to_teacher=True)

model = dict(
    student=dict(
        cfg_path='{{fileDirname}}/../../configs/voc12aug/jfzhang95-deeplabv3plus_mobilenetv2-d16_voc12aug-513x513.py'),
    distill_losses=dict(
        loss_ofd_layer1=dict(student='backbone.layer3.0.conv.0.bn', connector=cropping_connector),
        loss_ofd_layer2=dict(student='backbone.layer4.0.conv.0.bn', connector=cropping_connector),
        loss_ofd_layer3=dict(student='backbone.layer6.0.conv.0.bn', connector=cropping_connector),
        loss_ofd_layer4=dict(student='backbone.layer7')))
