# IFVD: intra-class feature variation distillation (Wang et al., ECCV 2020) as CIRKD's baseline (winycg/CIRKD,
# train_kd.py at 2d8ad0f): DeepLabV3-R101 -> DeepLabV3-R18 on Cityscapes. Published in CIRKD (Cityscapes val):
# R18 74.21 -> 75.59 (teacher 78.07).
#
# * IFVD on the head feature (the ASPP fusion conv after its ReLU, 1/8 resolution) with the ground-truth
#   labels, lambda = 20 (mmseg_kd/losses/intra_class_feature_variation.py). Ignored pixels (label 255) add
#   nothing, but CIRKD's code, like the IFVD authors', divides by all B*h*w pixels, ignored ones included:
#   ignored_pixels_in_mean=True gives that scale, for which lambda = 20 was chosen;
# * pixel-wise KD on the 1/8 logits, T = 1, no ignore mask, lambda = 1;
# * SKD's holistic adversarial term, which CIRKD's IFVD script also trains: a discriminator on the 1/8 logits
#   with its own Adam (lr 4e-4, betas (0.9, 0.99)), hinge loss, lambda_d = 0.1; the student's generator term
#   lambda_adv = 0.001 (mmseg_kd/losses/holistic_adversarial_distillation.py). The discriminator needs logits
#   of at least 64x64, hence the 512x512 build-time dry run (training crops are 512x1024).
# Recipe (CIRKD): 40,000 iterations at 16 images per step (8 GPUs x 2), SGD lr 0.02, momentum 0.9, wd 1e-4,
# poly 0.9 to 0, 512x1024 crops.
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py']
model = dict(
    tap_check_input_size=(512, 512),  # the discriminator needs 1/8 logits of at least 64x64
    distill_losses=dict(
        loss_ifvd=dict(type='IntraClassFeatureVariation', ignore_index=255, ignored_pixels_in_mean=True,
                       loss_weight=20.,
                       student='decode_head.bottleneck', teacher='decode_head.bottleneck'),
        loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.,
                     student='decode_head.conv_seg', teacher='decode_head.conv_seg'),
        loss_adv=dict(type='HolisticAdversarialDistillation', loss_weight=0.001, discriminator_loss_weight=0.1,
                      discriminator_optimizer=dict(type='Adam', lr=4e-4, betas=(0.9, 0.99)),
                      student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
