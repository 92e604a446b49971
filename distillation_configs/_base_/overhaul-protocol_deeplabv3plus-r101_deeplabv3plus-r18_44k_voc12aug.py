# Overhaul's segmentation protocol (clovaai/overhaul-distillation, Segmentation/): the models and data of the AICSD
# code base's VOC protocol (DeepLabV3+-R101 -> DeepLabV3+-R18, VOC 2012 + SBD, 512x512 crops; the reference: 513x513)
# and its optimizer, with Overhaul's length: 50 epochs of voc12aug (10,582 images) at 12 images per step (2 GPUs x 6)
# = 44,100 iterations, validation every 5 epochs. The leaves add a method base (methods/).
_base_ = ['./aicsd-protocol_deeplabv3plus-r101_deeplabv3plus-r18_29k_voc12aug.py']
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=44100, by_epoch=False)]
train_cfg = dict(max_iters=44100, val_interval=4410)
auto_scale_lr = dict(base_batch_size=12)  # the recipe's total batch: 2 GPUs x 6 images (tools/train.py --auto-scale-lr)
