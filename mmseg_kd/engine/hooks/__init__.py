"""The runner hooks every training or evaluation run of the tools gets (registered in mmseg's ``HOOKS``):
weights-only-loadable checkpoints, torch's RNG carried across a resume, the stop on a non-finite loss, and strict
pairing of the checkpoints given to ``load_from``/``--resume``/``tools/test.py``."""
from mmseg_kd.engine.hooks.checkpoint_pairing_hook import CheckpointPairingHook
from mmseg_kd.engine.hooks.non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from mmseg_kd.engine.hooks.torch_rng_checkpoint_hook import TorchRngCheckpointHook
from mmseg_kd.engine.hooks.weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = ['CheckpointPairingHook', 'NonFiniteLossError', 'NonFiniteLossHook', 'TorchRngCheckpointHook',
           'WeightsOnlyCheckpointHook']
