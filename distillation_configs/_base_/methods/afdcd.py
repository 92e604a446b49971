# Af-DCD (Fan et al., "Augmentation-free Dense Contrastive Knowledge Distillation for Efficient Semantic
# Segmentation", NeurIPS 2023; OSVAI/Af-DCD at 5b086a7, train_ocmgd.py and train_scripts/): the losses, taps and
# weights (docs/methods/afdcd.md). A leaf puts them into its CIRKD-protocol distiller:
#   model = dict(tap_check_input_size=afdcd_tap_check_input_size, distill_losses=afdcd_losses)
# and changes the weights of its dataset (VOC: generation 1e-6; ADE20K: KD 0.5, generation 1e-6, contrast 0.04).
#
# Both terms compare the last backbone stage (c4, 1/8 resolution: 512 channels for R18, 320 for MobileNetV2, 2048
# for the R101 teacher), which the student's 1x1 align conv maps to the teacher's width. The released scripts
# train four terms besides the student's CE (+ 0.4 x auxiliary CE for ResNet students, as the protocol's networks):
# * pixel KD on the 1/8 logits, tau 1, weight 1 (--lambda-kd; ./kd.py);
# * the masked generation sum(G - F_t)^2 / B, 75 % of the pixels masked at random, plain projector (--lambda-fd);
# * the omni-contrastive term, tau 0.07, 16 channel groups, max-pool 4, 4x4 patches (--lambda-ctr);
# and clip the L2 norm of the Af-DCD module's own gradients at 15 after every backward (max_grad_norm=15;
# tools/train.py's DistillLossGradClipHook does it; max_grad_norm=None switches it off).
# The align conv and the projector learn with the student (same optimizer, learning rate and weight decay).
_base_ = ['./kd.py']
c4 = 'backbone.layer4'  # ResNet students and the teacher; MobileNetV2 students: backbone.layer7
afdcd_losses = dict(
    loss_kd=_base_.kd_losses.loss_kd,
    loss_afdcd=dict(type='OmniContrastiveDistillation', mask_ratio=0.75, mask_type='random', projector='plain',
                    tau=0.07, num_groups=16, pool_size=4, patch_size=4, generation_weight=2e-6,
                    contrast_weight=0.005, max_grad_norm=15.0, student=c4, teacher=c4))
# the build-time dry run needs c4 maps of 16 x 16 or more (max-pool 4, then 4 x 4 patches): 128 x 128 inputs
afdcd_tap_check_input_size = (128, 128)
