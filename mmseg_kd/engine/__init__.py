"""The runner's concerns: hooks every training run gets (weights-only checkpoints, torch RNG across a resume, the
non-finite-loss stop, strict checkpoint pairing) and what the tools share (``runner_setup``, the model evaluation
builds in ``evaluation_model``, the error block of ``tool_errors``, ``data_checks``: the checked loading steps in
every pipeline).

Layering: below only ``datasets`` and ``analysis``; nothing else in ``mmseg_kd`` imports it.
"""
from mmseg_kd.engine.checkpoint_pairing_hook import CheckpointPairingHook
from mmseg_kd.engine.hooks import DistillLossGradClipHook
from mmseg_kd.engine.non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from mmseg_kd.engine.torch_rng_checkpoint_hook import TorchRngCheckpointHook
from mmseg_kd.engine.weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = ['CheckpointPairingHook', 'DistillLossGradClipHook', 'NonFiniteLossError', 'NonFiniteLossHook',
           'TorchRngCheckpointHook', 'WeightsOnlyCheckpointHook']
