# AICSD with the lineage's own networks (the jfzhang95 DeepLabV3+, output stride 16; configs/cityscapes/jfzhang95-*):
# DeepLabV3+-R101 -> DeepLabV3+-R18 on Cityscapes, square 513x513 crops. Published (AICSD README, Cityscapes val at
# 513x1026 against resized labels: MMSEG_KD_LINEAGE_EVALUATION=shorter_side_513): R18 64.09 -> 68.46 (teacher
# 77.66). Losses: ../_base_/methods/aicsd.py, with K = 19 (KD weight 10 * 6 / 19) and ALW over the E = 200 epochs of
# this schedule (the reference divides by a hard-coded 120, written for VOC; alpha = e / E is its generalisation).
# Teacher: none released for Cityscapes; train it (the protocol base says how).
_base_ = ['../_base_/aicsd-protocol_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_99k_cityscapes.py',
          '../_base_/methods/aicsd.py']

alw_epochs = 200
model = dict(
    student=dict(loss_weight_schedule=dict(type='TrainingProgress', num_steps=alw_epochs)),
    distill_losses=dict(
        loss_icsd=dict(_base_.aicsd_losses.loss_icsd,
                       weight_schedule=dict(type='TrainingProgress', num_steps=alw_epochs)),
        loss_kd=dict(_base_.aicsd_losses.loss_kd, loss_weight=10. * 6 / 19,
                     weight_schedule=dict(type='RemainingTraining', num_steps=alw_epochs))))
