"""The runner hooks every training or evaluation run of the tools gets (registered in mmseg's ``HOOKS``):
checkpoints written atomically and loadable weights-only, torch's RNG carried across a resume, a resumed schedule that
follows the config's bounds, the stop on a non-finite loss, the clipping of a loss's own gradients where it sets
``max_grad_norm``, and strict pairing of the checkpoints given to ``load_from``/``--resume``/``tools/test.py``."""
from mmseg_kd.engine.hooks.atomic_checkpoint_hook import AtomicCheckpointHook
from mmseg_kd.engine.hooks.checkpoint_pairing_hook import CheckpointPairingHook
from mmseg_kd.engine.hooks.distill_loss_grad_clip_hook import DistillLossGradClipHook
from mmseg_kd.engine.hooks.non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from mmseg_kd.engine.hooks.resumed_schedule_hook import ResumedScheduleHook
from mmseg_kd.engine.hooks.torch_rng_checkpoint_hook import TorchRngCheckpointHook
from mmseg_kd.engine.hooks.weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = ['AtomicCheckpointHook', 'CheckpointPairingHook', 'DistillLossGradClipHook', 'NonFiniteLossError',
           'NonFiniteLossHook', 'ResumedScheduleHook', 'TorchRngCheckpointHook', 'WeightsOnlyCheckpointHook']
