# AICSD: DeepLabV3+-R101 -> DeepLabV3+-R18 on Cityscapes. Published (Cityscapes val, evaluated at 513x1026
# against down-sampled labels): R18 64.09 -> 68.46 (teacher 77.66). Losses: ../_base_/methods/aicsd.py, with
# K = 19: KD weight 10 * 6 / 19. ALW over the E = 200 epochs of this schedule (the reference divides by a hard-coded
# 120, written for VOC; alpha = e / E is its generalisation). Recipe: 200 epochs of Cityscapes train at 6 images per
# step (one GPU) = 99,200 iterations, SGD lr 0.01 (momentum 0.9, wd 5e-4), poly 0.9, decoder at lr x10. The reference
# trains on square 513x513 crops; this config keeps mmseg's 512x1024 Cityscapes crops.
# Teacher: mmseg's model zoo, deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024 (80.97 mIoU; URL and hash in the
# protocol base). The same setting with the paper's networks and teacher:
# aicsd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_99k_cityscapes.py.
_base_ = ['../_base_/aicsd-protocol_deeplabv3plus-r101_deeplabv3plus-r18_99k_cityscapes.py',
          '../_base_/methods/aicsd.py']

alw_epochs = 200
model = dict(
    student=dict(loss_weight_schedule=dict(type='TrainingProgress', num_steps=alw_epochs)),
    distill_losses=dict(
        loss_icsd=dict(_base_.aicsd_losses.loss_icsd,
                       weight_schedule=dict(type='TrainingProgress', num_steps=alw_epochs)),
        loss_kd=dict(_base_.aicsd_losses.loss_kd, loss_weight=10. * 6 / 19,
                     weight_schedule=dict(type='RemainingTraining', num_steps=alw_epochs))))
