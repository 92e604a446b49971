# Overhaul of feature distillation: DeepLabV3+-R101 -> DeepLabV3+-R18 on Cityscapes, with the recipe of the
# AICSD/AttnFD code base, which reports Overhaul as a baseline: R18 64.09 -> 70.31 on Cityscapes val
# (evaluated at 513x1026 against down-sampled labels, not comparable with mmseg's full-resolution evaluation).
# Losses, taps and connectors: ../_base_/methods/overhaul.py. Recipe: 200 epochs of Cityscapes train at 6 images per
# step (one GPU) = 99,200 iterations, SGD lr 0.01 (Nesterov, momentum 0.9, wd 5e-4), poly 0.9, decoder and connectors
# at lr x10, teacher BN in train mode. Weight: the reference's 1e-5 on the batch sum with CE/B is 1e-5 x 6 on the
# per-image sum with mmseg's CE. The first epoch (496 iterations) trains the connectors alone, as the reference's.
# Teacher: mmseg's model zoo, deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024 (80.97 mIoU; URL and hash in the
# protocol base). The same setting with the paper's networks and teacher:
# overhaul_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_99k_cityscapes.py.
_base_ = ['../_base_/aicsd-protocol_deeplabv3plus-r101_deeplabv3plus-r18_99k_cityscapes.py',
          '../_base_/methods/overhaul.py']

ofd_weight = 1e-5 * 6  # 1e-5 x the reference batch of 6
model = dict(
    teacher=dict(bn_train=True),  # Overhaul, Table 8: teacher BN in train mode distils better
    connector_warmup=dict(iters=496),  # epoch 0: the student waits while its connectors learn
    distill_losses={name: dict(loss, loss_weight=ofd_weight) for name, loss in _base_.ofd_losses.items()})
optim_wrapper = _base_.overhaul_optim_wrapper
