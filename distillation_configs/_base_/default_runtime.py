# mmseg's runtime for distillation: every loss term, the learning rate and mIoU go to TensorBoard besides the JSON log
# (tensorboard --logdir work_dirs). The protocol bases import mmseg_kd (custom_imports), which registers the distiller
# and the losses; the papers' model pieces import it already.
_base_ = ['mmseg::_base_/default_runtime.py']
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
