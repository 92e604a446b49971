# AttnFD: attention-guided feature distillation (Mansourian et al., arXiv 2403.05451; AmirMansurian/AttnFD):
# DeepLabV3+-R101 -> DeepLabV3+-R18 on Pascal VOC 2012. Published (VOC val, mean of runs): R18 67.50 -> 73.09
# (teacher 77.85), trained on VOC train (1,464 images). Losses, taps and connectors: ../_base_/methods/attnfd.py.
# Recipe: 120 epochs of VOC train at 6 images per step (one GPU) = 29,280 iterations, SGD lr 0.007 (Nesterov,
# momentum 0.9, wd 5e-4), poly 0.9, decoder, connectors and the student CBAMs at lr x10. This config trains the same
# number of steps on voc12aug; for the published setting use VOC train only (see the protocol base).
# Teacher: mmseg's model zoo, deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512 (78.62 mIoU; URL and hash in the
# protocol base). The same setting with the paper's networks and teacher:
# attnfd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_29k_voc12aug.py.
_base_ = ['../_base_/aicsd-protocol_deeplabv3plus-r101_deeplabv3plus-r18_29k_voc12aug.py',
          '../_base_/methods/attnfd.py']

model = dict(
    connector_warmup=dict(iters=244, freeze_after=True),  # epoch 0: 1,464 images / 6 per step
    distill_losses=_base_.attnfd_losses)
optim_wrapper = _base_.attnfd_optim_wrapper
