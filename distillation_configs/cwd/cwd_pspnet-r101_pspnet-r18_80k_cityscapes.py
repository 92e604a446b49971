# Channel-wise distillation (Shu et al., ICCV 2021) of PSPNet-R101 into PSPNet-R18 on Cityscapes, mmseg's 80k
# protocol (512x1024 crops, 4 GPUs x 2 images, SGD 0.01), logits, tau 1, weight 5 as in mmrazor's CWD config.
# Teacher: mmseg's PSPNet-R101 Cityscapes 80k checkpoint (79.76 mIoU; its URL and hash below).
_base_ = ['../../configs/cityscapes/pspnet_r18-d8_cityscapes-512x1024.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/pspnet_r18-d8_cityscapes-512x1024.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/pspnet_r101-d8_cityscapes-512x1024.py',
                 # mmseg model zoo: pspnet_r101-d8_4xb2-80k_cityscapes-512x1024, 79.76 mIoU (docs/teachers.md)
                 checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/pspnet/'
                            'pspnet_r101-d8_512x1024_80k_cityscapes/'
                            'pspnet_r101-d8_512x1024_80k_cityscapes_20200606_112211-e1e1100f.pth',
                 checkpoint_sha256='e1e1100f'),
    distill_losses=dict(
        loss_cwd=dict(type='ChannelWiseDivergence', tau=1.0, loss_weight=5.0,
                      student='decode_head.conv_seg', teacher='decode_head.conv_seg')))

auto_scale_lr = dict(enable=False, base_batch_size=8)  # the recipe's total batch (tools/train.py --auto-scale-lr)

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
