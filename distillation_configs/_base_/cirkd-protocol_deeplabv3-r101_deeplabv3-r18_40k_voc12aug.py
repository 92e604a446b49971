# CIRKD's protocol (winycg/CIRKD): teacher DeepLabV3-R101, student DeepLabV3-R18, Pascal VOC 2012 + SBD, 512x512 crops,
# 40k iterations, 8 GPUs x 2 images, SGD lr 0.02, momentum 0.9, weight decay 1e-4, poly (power 0.9).
# The method files add the losses.
_base_ = ['../../configs/voc12aug/deeplabv3_r18-d8_voc12aug-512x512.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3_r18-d8_voc12aug-512x512.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3_r101-d8_voc12aug-512x512.py',
                 # mmseg model zoo: deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512, 77.92 mIoU (docs/teachers.md)
                 checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/'
                            'deeplabv3_r101-d8_512x512_40k_voc12aug/'
                            'deeplabv3_r101-d8_512x512_40k_voc12aug_20200613_161432-0017d784.pth',
                 checkpoint_sha256='0017d784'),
    distill_losses=dict())
train_dataloader = dict(batch_size=2)
auto_scale_lr = dict(enable=False, base_batch_size=16)  # the recipe's total batch (tools/train.py --auto-scale-lr)
optim_wrapper = dict(optimizer=dict(lr=0.02, weight_decay=0.0001))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=40000, by_epoch=False)]
train_cfg = dict(max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
