# Overhaul of feature distillation on the lineage's own DeepLabV3+ (jfzhang95, output stride 16; the paper's
# networks): the losses, connectors, weights and switches of ./overhaul.py, at the six positions of the reference's
# extract_feature. The four ResNet stages keep their taps; the ASPP fusion is the BN of its 1x1 projection and the
# decoder the BN of its second 3x3 conv, both before their ReLU (the reference's aspp.bn1 and last_conv[5]).
_base_ = ['./overhaul.py']
ofd_losses = dict(
    _base_.ofd_losses,
    loss_ofd_aspp=dict(_base_.ofd_losses.loss_ofd_aspp,
                       student='decode_head.aspp.projection.bn', teacher='decode_head.aspp.projection.bn'),
    loss_ofd_decoder=dict(_base_.ofd_losses.loss_ofd_decoder,
                          student='decode_head.fuse_convs.2.bn', teacher='decode_head.fuse_convs.2.bn'))
