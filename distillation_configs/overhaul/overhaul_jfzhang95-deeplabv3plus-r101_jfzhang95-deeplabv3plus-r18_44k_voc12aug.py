# Overhaul of feature distillation (Heo et al., ICCV 2019; clovaai/overhaul-distillation, Segmentation/) with the
# paper's networks (the jfzhang95 DeepLabV3+, output stride 16; configs/voc12aug/jfzhang95-*): DeepLabV3+-R101 ->
# DeepLabV3+-R18 on Pascal VOC 2012 + SBD. Published (Overhaul README, VOC val at a shorter side of 513 against resized
# labels: MMSEG_KD_LINEAGE_EVALUATION=shorter_side_513): R18 72.07 -> 73.98 (teacher 77.89). Losses, taps and
# connectors: ../_base_/methods/overhaul_jfzhang95-deeplabv3plus.py. Recipe: Overhaul's 50 epochs at 12 images per
# step, Nesterov, decoder and connectors at lr x10, teacher BN in train mode, weight 1e-5 x 12; the first epoch (882
# iterations) trains the connectors alone. The teacher's dropout stays off (the reference's runs, in train mode).
# Teacher: jfzhang95's deeplab-resnet.pth.tar that Overhaul's README links (77.89 mIoU), converted with
# tools/model_converters/deeplabv3plus2mmseg.py (the command is in the protocol base).
_base_ = ['../_base_/overhaul-protocol_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_44k_voc12aug.py',
          '../_base_/methods/overhaul_jfzhang95-deeplabv3plus.py']

ofd_weight = 1e-5 * 12  # 1e-5 x the reference batch of 12
model = dict(
    teacher=dict(bn_train=True),  # Overhaul, Table 8: teacher BN in train mode distils better
    connector_warmup=dict(iters=882),  # epoch 0: the student waits while its connectors learn
    distill_losses={name: dict(loss, loss_weight=ofd_weight) for name, loss in _base_.ofd_losses.items()})
optim_wrapper = _base_.overhaul_optim_wrapper
