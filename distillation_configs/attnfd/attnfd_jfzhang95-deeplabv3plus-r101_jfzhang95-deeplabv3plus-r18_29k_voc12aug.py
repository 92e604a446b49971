# AttnFD (Mansourian et al., arXiv 2403.05451; AmirMansurian/AttnFD) with the lineage's own networks (the jfzhang95
# DeepLabV3+, output stride 16; configs/voc12aug/jfzhang95-*): DeepLabV3+-R101 -> DeepLabV3+-R18 on Pascal VOC 2012.
# Published (AttnFD README, VOC val, mean of runs, at a shorter side of 513 against resized labels:
# MMSEG_KD_LINEAGE_EVALUATION=shorter_side_513): R18 67.50 -> 73.09 (teacher 77.85), trained on VOC train only (this
# protocol trains the same steps on VOC 2012 + SBD). Losses, taps and connectors:
# ../_base_/methods/attnfd_jfzhang95-deeplabv3plus.py. The connectors learn alone in the first epoch (1,464 images / 6
# per step = 244 iterations) and are frozen afterwards.
# Teacher: the DeepLabV3+-R101 that AttnFD's README links (teacher-pascal.pth.tar, 77.85 mIoU; the converter drops
# its unused CBAM weights), converted with
#   python tools/model_converters/deeplabv3plus2mmseg.py teacher-pascal.pth.tar \
#       checkpoints/attnfd-teacher_jfzhang95-deeplabv3plus_r101-d16-mg124_voc12aug-513x513.pth
_base_ = ['../_base_/aicsd-protocol_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_29k_voc12aug.py',
          '../_base_/methods/attnfd_jfzhang95-deeplabv3plus.py']

model = dict(
    teacher=dict(checkpoint='checkpoints/attnfd-teacher_jfzhang95-deeplabv3plus_r101-d16-mg124_voc12aug-513x513.pth'),
    connector_warmup=dict(iters=244, freeze_after=True),  # epoch 0: 1,464 images / 6 per step
    distill_losses=_base_.attnfd_losses)
optim_wrapper = _base_.attnfd_optim_wrapper
