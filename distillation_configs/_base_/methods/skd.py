# SKD (Liu et al., "Structured Knowledge Distillation for Semantic Segmentation", CVPR 2019) as CIRKD's baseline
# (winycg/CIRKD, train_kd.py and train_scripts/train_kd/train_skd.sh at 2d8ad0f): the losses, taps and weights.
# * pair-wise: cosine similarities of 2x2 max-pooled nodes of the head feature (the ASPP or PPM fusion conv after its
#   ReLU, 1/8 resolution), lambda = 10 (mmseg_kd/losses/pairwise_similarity.py);
# * pixel-wise KD on the 1/8 logits (./kd.py) and SKD's holistic adversarial term (./holistic_adversarial.py).
# A leaf: model = dict(tap_check_input_size=(512, 512), distill_losses=skd_losses).
_base_ = ['./kd.py', './holistic_adversarial.py']
skd_losses = dict(
    loss_skd=dict(type='PairwiseSimilarityDistillation', pool_kernel=2, loss_weight=10.,
                  student='decode_head.bottleneck', teacher='decode_head.bottleneck'),
    loss_kd=_base_.kd_losses.loss_kd,
    loss_adv=_base_.holistic_adversarial_loss)
