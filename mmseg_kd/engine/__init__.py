from mmseg_kd.engine.loss_weight_schedules import (ConstantWeight, LinearWarmupDecay, RemainingTraining,
                                                   TrainingProgress, build_weight_schedule,
                                                   current_train_iteration)
from mmseg_kd.engine.non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from mmseg_kd.engine.safe_checkpoint import allow_mmengine_checkpoint_types
from mmseg_kd.engine.torch_rng_checkpoint_hook import TorchRngCheckpointHook
from mmseg_kd.engine.weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = ['ConstantWeight', 'LinearWarmupDecay', 'NonFiniteLossError', 'NonFiniteLossHook', 'RemainingTraining',
           'TorchRngCheckpointHook', 'TrainingProgress', 'WeightsOnlyCheckpointHook',
           'allow_mmengine_checkpoint_types', 'build_weight_schedule', 'current_train_iteration']
