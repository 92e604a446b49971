# Overhaul's segmentation protocol (clovaai/overhaul-distillation, Segmentation/) with the lineage's own networks: the
# models, data and optimizer of the AICSD code base's VOC protocol with them (its teacher is Overhaul's, jfzhang95's
# deeplab-resnet.pth.tar), with Overhaul's length: 50 epochs of voc12aug (10,582 images) at 12 images per step (2 GPUs
# x 6) = 44,100 iterations, validation every 5 epochs. The leaves add a method base (methods/).
_base_ = ['./aicsd-protocol_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_29k_voc12aug.py']
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=44100, by_epoch=False)]
train_cfg = dict(max_iters=44100, val_interval=4410)
auto_scale_lr = dict(base_batch_size=12)  # the recipe's total batch: 2 GPUs x 6 images (tools/train.py --auto-scale-lr)
