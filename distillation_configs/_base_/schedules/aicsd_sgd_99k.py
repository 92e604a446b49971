# The AICSD/AttnFD code base's Cityscapes schedule (AmirMansurian/AICSD): 200 epochs of Cityscapes train (2,975
# images) at 6 images per step on one GPU = 99,200 iterations, SGD lr 0.01, momentum 0.9, weight decay 5e-4, poly
# (power 0.9) to 0, decoder at lr x10 (mmseg's auxiliary head too); validation every 10 epochs.
_base_ = ['mmseg::_base_/schedules/schedule_80k.py']
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={
        'student.decode_head': dict(lr_mult=10.),
        'student.auxiliary_head': dict(lr_mult=10.)}))
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=99200, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=99200, val_interval=4960)
auto_scale_lr = dict(enable=False, base_batch_size=6)  # the recipe's total batch (tools/train.py --auto-scale-lr)
