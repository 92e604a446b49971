# Channel-wise distillation as CIRKD's CWD baseline (winycg/CIRKD at 2d8ad0f: train_kd.py, losses/cwd.py and
# train_scripts/train_kd/train_cwd.sh) for DeepLabV3 heads (mmseg's and CIRKD's): the losses, taps and weights. Its
# script trains four terms besides the student's CE:
# * pixel KD on the 1/8 logits, tau 1, no ignore mask, weight 1 (--lambda-kd 1; ./kd.py);
# * CWD on the 1/8 logits, tau 4, weight 3 (--lambda-cwd-logit 3);
# * CWD on the head feature, tau 4 (--lambda-cwd-fea 50): CIRKD's feature after ASPP, its ReLU and the head's
#   train-mode dropout (mmseg: the input of the student's decode_head.conv_seg, behind the dropout; the eval-mode
#   teacher's decode_head.bottleneck), mapped to the teacher's channels by a 1x1 conv without bias (ConvConnector)
#   when the channel counts differ, as CIRKD's CriterionCWD. Weight: CIRKD's code divides the KL summed over the
#   C_t teacher channels by B * C_s, with C_s the student's channels counted before its 1x1 conv (128 and 256 in
#   CIRKD's networks), i.e. C_t / C_s = 2 times the mean over channels that ChannelWiseDivergence computes: 50 there
#   is 100 here. (The same formula on mmseg's channels would scale with 512 / 128 for R18 and 512 / 512 for
#   MobileNetV2, an accident of the head widths; the configs keep CIRKD's weight on the per-channel mean.)
# * SKD's holistic adversarial term (./holistic_adversarial.py), whose discriminator needs the leaf's
#   tap_check_input_size=(512, 512).
# A leaf puts them into its CIRKD-protocol distiller:
#   model = dict(tap_check_input_size=(512, 512), distill_losses=cwd_losses)
_base_ = ['./kd.py', './holistic_adversarial.py']
logits = 'decode_head.conv_seg'  # 1/8-resolution logits
cwd_losses = dict(
    loss_kd=_base_.kd_losses.loss_kd,
    loss_cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=3.0, student=logits, teacher=logits),
    loss_cwd_feature=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=50. * 256 / 128,
                          connector=dict(type='ConvConnector'),
                          student=dict(module='decode_head.conv_seg', record='input'),
                          teacher='decode_head.bottleneck'),
    loss_adv=_base_.holistic_adversarial_loss)
