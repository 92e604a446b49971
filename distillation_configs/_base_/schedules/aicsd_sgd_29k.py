# The AICSD/AttnFD code base's Pascal VOC schedule (AmirMansurian/AICSD, AmirMansurian/AttnFD): 120 epochs of VOC
# train (1,464 images) at 6 images per step on one GPU = 29,280 iterations, SGD lr 0.007, momentum 0.9, weight decay
# 5e-4, poly (power 0.9) to 0, decoder at lr x10 (mmseg's auxiliary head too); validation every 10 epochs.
_base_ = ['mmseg::_base_/schedules/schedule_40k.py']
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.007, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={
        'student.decode_head': dict(lr_mult=10.),
        'student.auxiliary_head': dict(lr_mult=10.)}))
param_scheduler = [dict(type='PolyLR', eta_min=0., power=0.9, begin=0, end=29280, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=29280, val_interval=2440)
auto_scale_lr = dict(enable=False, base_batch_size=6)  # the recipe's total batch (tools/train.py --auto-scale-lr)
