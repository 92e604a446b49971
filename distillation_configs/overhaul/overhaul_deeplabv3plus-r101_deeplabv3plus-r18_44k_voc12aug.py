# Overhaul of feature distillation (Heo et al., ICCV 2019; clovaai/overhaul-distillation, Segmentation/):
# DeepLabV3+-R101 -> DeepLabV3+-R18 on Pascal VOC 2012 + SBD. Published (reference code, VOC val): R18 72.07
# -> 73.98 (teacher 77.89). Losses, taps and connectors: ../_base_/methods/overhaul.py.
#
# Reference recipe: 50 epochs of voc12aug at 12 images per step (6 per GPU x 2 GPUs) = 44,100 iterations, SGD lr 0.007
# (Nesterov, momentum 0.9, wd 5e-4), poly 0.9, decoder and connectors at lr x10, teacher BN in train mode. Weight:
# 1e-5 x the reference batch of 12. Differences from the reference: mmseg's D8 models (the reference is OS16 with
# 256-channel ASPP/decoder; mmseg's R18 head has 128 channels, the R101 head 512), mmseg's aux head is kept, teacher
# dropout stays off. As the reference, the first epoch (10,582 images / 12 per step = 882 iterations) trains the
# connectors alone; the learning-rate schedule runs through it, as the reference's.
# Teacher: mmseg's model zoo, deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512 (78.62 mIoU; URL and hash in the
# protocol base). The same setting with the paper's networks and teacher:
# overhaul_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_44k_voc12aug.py.
_base_ = ['../_base_/overhaul-protocol_deeplabv3plus-r101_deeplabv3plus-r18_44k_voc12aug.py',
          '../_base_/methods/overhaul.py']

ofd_weight = 1e-5 * 12  # 1e-5 x the reference batch of 12
model = dict(
    teacher=dict(bn_train=True),  # Overhaul, Table 8: teacher BN in train mode distils better
    connector_warmup=dict(iters=882),  # epoch 0: the student waits while its connectors learn
    distill_losses={name: dict(loss, loss_weight=ofd_weight) for name, loss in _base_.ofd_losses.items()})
optim_wrapper = _base_.overhaul_optim_wrapper
