# SKD's holistic adversarial term as CIRKD's SKD, IFVD and CWD scripts train it (winycg/CIRKD at 2d8ad0f): a
# discriminator on the 1/8 logits with its own Adam (lr 4e-4, betas (0.9, 0.99)), hinge loss, lambda_d = 0.1; the
# student's generator term lambda_adv = 0.001 (mmseg_kd/losses/holistic_adversarial_distillation.py). The
# discriminator needs logits of at least 64x64: a config with this term sets tap_check_input_size=(512, 512) for the
# build-time dry run (training crops are 512x512 or larger).
holistic_adversarial_loss = dict(
    type='HolisticAdversarialDistillation', loss_weight=0.001, discriminator_loss_weight=0.1,
    discriminator_optimizer=dict(type='Adam', lr=4e-4, betas=(0.9, 0.99)),
    student='decode_head.conv_seg', teacher='decode_head.conv_seg')
