# AttnFD on the lineage's own DeepLabV3+ (jfzhang95, output stride 16; the paper's networks): the losses, connectors,
# weights and switches of ./attnfd.py, at the three positions of the reference's extract_feature. The last backbone
# stage keeps its tap; the ASPP output is its 1x1 projection after the ReLU (before the ASPP's dropout, as the
# reference's extract path), the decoder output its second 3x3 conv after the ReLU (the dropout between the two convs
# included, as the reference's last_conv[0:7]).
_base_ = ['./attnfd.py']
attnfd_losses = dict(
    _base_.attnfd_losses,
    loss_attnfd_aspp=dict(_base_.attnfd_losses.loss_attnfd_aspp,
                          student='decode_head.aspp.projection', teacher='decode_head.aspp.projection'),
    loss_attnfd_decoder=dict(_base_.attnfd_losses.loss_attnfd_decoder,
                             student='decode_head.fuse_convs.2', teacher='decode_head.fuse_convs.2'))
