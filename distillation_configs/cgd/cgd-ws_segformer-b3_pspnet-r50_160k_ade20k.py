# CGD with its weight schedule (SegDistill CGD+WS): linear warm-up over 2k iterations, linear decay to 0 between 110k
# and 120k (no distillation in the last 40k iterations); groups of 5, tau 2: SegFormer-B3 -> PSPNet-R50 on ADE20K,
# 160k.
_base_ = ['../_base_/segdistill_segformer-b3_pspnet-r50_160k_ade20k.py']
model = dict(distill_losses=dict(
    loss_cgd=dict(
        type='ChannelGroupDivergence', tau=2.0, group_size=5, loss_weight=0.75,
        student='decode_head.conv_seg', teacher='decode_head.conv_seg',
        weight_schedule=dict(type='LinearWarmupDecay', warmup_iters=2000,
                             decay_start_iter=110000, decay_end_iter=120000))))
