# mmseg's runtime for distillation: registers mmseg_kd's distiller and losses, and logs every loss term, the learning
# rate and mIoU to TensorBoard besides the JSON log (tensorboard --logdir work_dirs).
_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
