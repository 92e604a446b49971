# AttnFD with the lineage's own networks (the jfzhang95 DeepLabV3+, output stride 16; configs/cityscapes/jfzhang95-*):
# DeepLabV3+-R101 -> DeepLabV3+-R18 on Cityscapes, square 513x513 crops (the code's; the paper says 512x1024).
# Published (AttnFD README, Cityscapes val at 513x1026 against resized labels:
# MMSEG_KD_LINEAGE_EVALUATION=shorter_side_513): R18 64.09 -> 73.04 (teacher 77.66). Losses, taps and connectors:
# ../_base_/methods/attnfd_jfzhang95-deeplabv3plus.py. The reference's Cityscapes recipe is not fully documented
# (AttnFD#4); this config uses the code base's AICSD Cityscapes recipe. Connectors learn alone in the first epoch (496
# iterations) and are frozen afterwards.
# Teacher: none released for Cityscapes; train it (the protocol base says how).
_base_ = ['../_base_/aicsd-protocol_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_99k_cityscapes.py',
          '../_base_/methods/attnfd_jfzhang95-deeplabv3plus.py']

model = dict(
    connector_warmup=dict(iters=496, freeze_after=True),  # epoch 0: 2,975 images / 6 per step
    distill_losses=_base_.attnfd_losses)
optim_wrapper = _base_.attnfd_optim_wrapper
