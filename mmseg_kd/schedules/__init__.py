"""Loss-weight schedules: factors that follow the runner's training iteration (read from mmengine's MessageHub).

Layering: depends on ``mmseg_kd.registry`` only; losses and the distiller use it.
"""
from mmseg_kd.schedules.loss_weight_schedules import (
                                                      ConstantWeight,
                                                      LinearWarmupDecay,
                                                      RemainingTraining,
                                                      TrainingProgress,
                                                      build_weight_schedule,
                                                      current_train_iteration,
)

__all__ = ['ConstantWeight', 'LinearWarmupDecay', 'RemainingTraining', 'TrainingProgress', 'build_weight_schedule',
           'current_train_iteration']
