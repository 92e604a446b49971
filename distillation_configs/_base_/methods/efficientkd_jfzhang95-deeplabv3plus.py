# Pixel-wise + pair-wise distillation (efficient KD architecture) on the lineage's own DeepLabV3+ (jfzhang95, output
# stride 16; the paper's networks): the losses and weights of ./efficientkd.py, at the reference's positions: the
# pixel-wise term on the BN of the decoder's second 3x3 conv, the pair-wise term on the BN of the ASPP's 1x1
# projection, both before their ReLU (the reference's feats[5] and feats[4]; on its 33x33 ASPP map at 513x513 crops the
# half-map max pooling gives a 3x3 grid).
_base_ = ['./efficientkd.py']
efficientkd_losses = dict(
    _base_.efficientkd_losses,
    loss_pixel=dict(_base_.efficientkd_losses.loss_pixel,
                    student='decode_head.fuse_convs.2.bn', teacher='decode_head.fuse_convs.2.bn'),
    loss_pair=dict(_base_.efficientkd_losses.loss_pair,
                   student='decode_head.aspp.projection.bn', teacher='decode_head.aspp.projection.bn'))
