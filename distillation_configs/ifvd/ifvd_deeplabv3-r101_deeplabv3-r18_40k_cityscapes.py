# IFVD: intra-class feature variation distillation (Wang et al., ECCV 2020) as CIRKD's baseline (winycg/CIRKD,
# train_kd.py at 2d8ad0f): DeepLabV3-R101 -> DeepLabV3-R18 on Cityscapes. Published in CIRKD (Cityscapes val):
# R18 74.21 -> 75.59 (teacher 78.07).
#
# * IFVD on the head feature (the ASPP fusion conv after its ReLU, 1/8 resolution) with the ground-truth
#   labels, ignore index 255 left out, lambda = 20 (mmseg_kd/losses/intra_class_feature_variation.py);
# * pixel-wise KD on the 1/8 logits, T = 1, no ignore mask, lambda = 1. CIRKD's IFVD script also trains SKD's
#   holistic adversarial loss: not implemented here. Recipe (CIRKD): 40,000 iterations at 16 images per step
#   (8 GPUs x 2), SGD lr 0.02, momentum 0.9, wd 1e-4, poly 0.9 to 0, 512x1024 crops.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']
model = dict(distill_losses=dict(
        loss_ifvd=dict(type='IntraClassFeatureVariation', ignore_index=255, loss_weight=20.,
                       student='decode_head.bottleneck', teacher='decode_head.bottleneck'),
        loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.,
                     student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
