# IFVD: intra-class feature variation distillation (Wang et al., ECCV 2020) as CIRKD's baseline (winycg/CIRKD,
# train_kd.py and train_scripts/train_kd/train_ifvd.sh at 2d8ad0f): the losses, taps and weights.
# * IFVD on the head feature (the ASPP or PPM fusion conv after its ReLU, 1/8 resolution) with the ground-truth labels,
#   lambda = 20 (mmseg_kd/losses/intra_class_feature_variation.py). Ignored pixels (label 255) add nothing, but CIRKD's
#   code, like the IFVD authors', divides by all B*h*w pixels, ignored ones included: ignored_pixels_in_mean=True gives
#   that scale, for which lambda = 20 was chosen;
# * pixel-wise KD on the 1/8 logits (./kd.py) and SKD's holistic adversarial term (./holistic_adversarial.py).
# A leaf: model = dict(tap_check_input_size=(512, 512), distill_losses=ifvd_losses).
_base_ = ['./kd.py', './holistic_adversarial.py']
ifvd_losses = dict(
    loss_ifvd=dict(type='IntraClassFeatureVariation', ignore_index=255, ignored_pixels_in_mean=True,
                   loss_weight=20., student='decode_head.bottleneck', teacher='decode_head.bottleneck'),
    loss_kd=_base_.kd_losses.loss_kd,
    loss_adv=_base_.holistic_adversarial_loss)
