# Overhaul of feature distillation with the paper's networks (the jfzhang95 DeepLabV3+, output stride 16;
# configs/cityscapes/jfzhang95-*): DeepLabV3+-R101 -> DeepLabV3+-R18 on Cityscapes, with the recipe of the AICSD/AttnFD
# code base, which reports Overhaul as a baseline. Published (AttnFD README, Cityscapes val at 513x1026 against resized
# labels: MMSEG_KD_LINEAGE_EVALUATION=shorter_side_513): R18 64.09 -> 70.31. Losses, taps and connectors:
# ../_base_/methods/overhaul_jfzhang95-deeplabv3plus.py; weight 1e-5 x 6, teacher BN in train mode, the first epoch
# (496 iterations) trains the connectors alone.
# Teacher: none released for Cityscapes; train it (the protocol base says how).
_base_ = ['../_base_/aicsd-protocol_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_99k_cityscapes.py',
          '../_base_/methods/overhaul_jfzhang95-deeplabv3plus.py']

ofd_weight = 1e-5 * 6  # 1e-5 x the reference batch of 6
model = dict(
    teacher=dict(bn_train=True),  # Overhaul, Table 8: teacher BN in train mode distils better
    connector_warmup=dict(iters=496),  # epoch 0: the student waits while its connectors learn
    distill_losses={name: dict(loss, loss_weight=ofd_weight) for name, loss in _base_.ofd_losses.items()})
optim_wrapper = _base_.overhaul_optim_wrapper
