# Channel-wise distillation (CWD, Shu et al. ICCV'21) of PSPNet-R101 into PSPNet-R18 on the generated demo
# street scenes (CPU-sized). Same loss and taps as the paper's Cityscapes setting (logits, tau=4, weight 3).
_base_ = ['../../configs/demo/pspnet_r18-d8_demo-cityscapes-64x128.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/demo/pspnet_r18-d8_demo-cityscapes-64x128.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/demo/pspnet_r101-d8_demo-cityscapes-64x128.py',
                 # not in mmseg's zoo: make demo (tools/demo.py) trains this teacher on the generated data
                 checkpoint='work_dirs/demo/teacher_pspnet_r101.pth'),
    distill_losses=dict(
        loss_cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=3.0,
                      student='decode_head.conv_seg', teacher='decode_head.conv_seg')))

auto_scale_lr = dict(enable=False, base_batch_size=4)  # the recipe's total batch (tools/train.py --auto-scale-lr)

# Every loss term, the learning rate and mIoU go to TensorBoard (tensorboard --logdir work_dirs) as well as
# to <work_dir>/<timestamp>/vis_data/scalars.json (read by tools/analysis/plot_logs.py).
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
