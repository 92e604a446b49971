# AICSD (Mansourian et al., arXiv 2308.04243; AmirMansurian/AICSD) with the lineage's own networks (the jfzhang95
# DeepLabV3+, output stride 16; configs/voc12aug/jfzhang95-*): DeepLabV3+-R101 -> DeepLabV3+-R18 on Pascal VOC 2012.
# Published (AICSD README, VOC val, mean of runs, evaluated at a shorter side of 513 against resized labels:
# MMSEG_KD_LINEAGE_EVALUATION=shorter_side_513): R18 67.50 -> 70.03 (teacher 77.85), trained on VOC train only
# (1,464 images; this protocol trains the same steps on VOC 2012 + SBD). Losses: ../_base_/methods/aicsd.py, with
# K = 21 and ALW over the reference's E = 120 epochs.
# Teacher: the DeepLabV3+-R101 that AICSD's README links (77.85 mIoU), converted with
#   python tools/model_converters/deeplabv3plus2mmseg.py <AICSD's teacher .pth.tar> \
#       checkpoints/aicsd-teacher_jfzhang95-deeplabv3plus_r101-d16-mg124_voc12aug-513x513.pth
_base_ = ['../_base_/aicsd-protocol_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_29k_voc12aug.py',
          '../_base_/methods/aicsd.py']

alw_epochs = 120
model = dict(
    student=dict(loss_weight_schedule=dict(type='TrainingProgress', num_steps=alw_epochs)),
    teacher=dict(checkpoint='checkpoints/aicsd-teacher_jfzhang95-deeplabv3plus_r101-d16-mg124_voc12aug-513x513.pth'),
    distill_losses=dict(
        loss_icsd=dict(_base_.aicsd_losses.loss_icsd,
                       weight_schedule=dict(type='TrainingProgress', num_steps=alw_epochs)),
        loss_kd=dict(_base_.aicsd_losses.loss_kd, loss_weight=10. * 6 / 21,
                     weight_schedule=dict(type='RemainingTraining', num_steps=alw_epochs))))
