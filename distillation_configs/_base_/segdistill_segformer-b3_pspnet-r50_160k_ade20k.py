# SegDistill's ADE20K protocol (wzpscott/SegDistill, Table 5): teacher SegFormer-B3 (mmseg ADE20K 160k
# checkpoint, 50.0 mIoU in SegDistill), student PSPNet-R50; 512x512 crops, 160k iterations, 8 GPUs x 2 images.
# The class logits (decode_head.conv_seg) of both networks are distilled; the method files add the loss.
_base_ = ['../../configs/ade20k/pspnet_r50-d8_ade20k-512x512.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/ade20k/pspnet_r50-d8_ade20k-512x512.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/ade20k/segformer_mit-b3_ade20k-512x512.py',
                 # mmseg model zoo: segformer_mit-b3_8xb2-160k_ade20k-512x512, 47.82 mIoU (docs/teachers.md)
                 checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/segformer/'
                            'segformer_mit-b3_512x512_160k_ade20k/'
                            'segformer_mit-b3_512x512_160k_ade20k_20210726_081410-962b98d2.pth',
                 checkpoint_sha256='962b98d2'),
    distill_losses=dict())
train_dataloader = dict(batch_size=2)
auto_scale_lr = dict(enable=False, base_batch_size=16)  # the recipe's total batch (tools/train.py --auto-scale-lr)

# SegDistill trains the PSPNet student with the SegFormer recipe (AdamW 6e-5, head lr x10).
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.00006, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.), 'head': dict(lr_mult=10.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=160000, by_epoch=False)
]

# TensorBoard besides the JSON log: every loss term, the learning rate and mIoU (tensorboard --logdir work_dirs)
visualizer = dict(type='SegLocalVisualizer', name='visualizer',
                  vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
