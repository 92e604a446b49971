# Channel-wise distillation on logits (CIRKD's re-implementation: tau 4, weight 3): DeepLabV3-R101 -> DeepLabV3-MobileNetV2, Cityscapes, 512x1024 crops, 40k.
# Plus SKD's holistic adversarial term, which CIRKD's CWD script also trains: a discriminator on the 1/8 logits
# with its own Adam (lr 4e-4, betas (0.9, 0.99)), hinge loss, lambda_d = 0.1; the student's generator term
# lambda_adv = 0.001 (mmseg_kd/losses/holistic_adversarial_distillation.py). The discriminator needs logits of
# at least 64x64, hence the 512x512 build-time dry run (training crops are 512x1024).
_base_ = ['../_base_/cirkd-protocol_deeplabv3-r101_deeplabv3-mobilenetv2_40k_cityscapes.py']
model = dict(
    tap_check_input_size=(512, 512),  # the discriminator needs 1/8 logits of at least 64x64
    distill_losses=dict(
        loss_cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=3.0,
                      student='decode_head.conv_seg', teacher='decode_head.conv_seg'),
        loss_adv=dict(type='HolisticAdversarialDistillation', loss_weight=0.001, discriminator_loss_weight=0.1,
                      discriminator_optimizer=dict(type='Adam', lr=4e-4, betas=(0.9, 0.99)),
                      student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
