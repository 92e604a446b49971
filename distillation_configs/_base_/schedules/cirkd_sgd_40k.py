# CIRKD's schedule (winycg/CIRKD): 40k iterations at 16 images per step (8 GPUs x 2), SGD lr 0.02, momentum 0.9,
# weight decay 1e-4, poly (power 0.9) to 0, validation and checkpoints every 4k iterations.
_base_ = ['mmseg::_base_/schedules/schedule_40k.py']
optim_wrapper = dict(optimizer=dict(lr=0.02, weight_decay=0.0001))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=40000, by_epoch=False)]
auto_scale_lr = dict(enable=False, base_batch_size=16)  # the recipe's total batch (tools/train.py --auto-scale-lr)
