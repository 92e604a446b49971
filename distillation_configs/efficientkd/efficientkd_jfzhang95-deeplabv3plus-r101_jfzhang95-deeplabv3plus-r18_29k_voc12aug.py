# Pixel-wise + pair-wise distillation of "An Efficient Knowledge Distillation Architecture for Real-time Semantic
# Segmentation" (Mansourian et al.; AmirMansurian/KD, code in the AICSD repository history) with the lineage's own
# networks (the jfzhang95 DeepLabV3+, output stride 16): DeepLabV3+-R101 -> DeepLabV3+-R18 on Pascal VOC 2012. No
# published number recoverable from the repositories (the KD README is a copy of Overhaul's table). Losses, taps and
# weights: ../_base_/methods/efficientkd_jfzhang95-deeplabv3plus.py; recipe: the code base's AICSD runs.
# Teacher: the DeepLabV3+-R101 of the AICSD repository, which holds this code (its README links it; 77.85 mIoU),
# converted as for aicsd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_29k_voc12aug.py.
_base_ = ['../_base_/aicsd-protocol_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_29k_voc12aug.py',
          '../_base_/methods/efficientkd_jfzhang95-deeplabv3plus.py']

model = dict(
    teacher=dict(checkpoint='checkpoints/aicsd-teacher_jfzhang95-deeplabv3plus_r101-d16-mg124_voc12aug-513x513.pth'),
    distill_losses=_base_.efficientkd_losses)
