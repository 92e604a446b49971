"""The runner's concerns and the tools' set-up around it.

* ``hooks/``: the runner hooks every run of the tools gets (weights-only checkpoints, torch RNG across a resume, the
  non-finite-loss stop, strict checkpoint pairing);
* the tools' set-up: ``runner_setup`` (options, process group, hooks, dataset paths), ``data_checks`` (the checked
  loading steps in every pipeline), ``dataset_scan`` (every file of a dataset, on request), ``unlabeled_images_check``
  (a config with unlabeled images, before the build), ``compute_budget``, ``evaluation_model`` (the student alone for
  evaluation) and ``tool_errors`` (one error block per user mistake).

Layering: builds on ``distillers`` and everything below; only ``analysis`` and the tools import it.
"""
from mmseg_kd.engine.hooks import (
    AtomicCheckpointHook,
    CheckpointPairingHook,
    DistillLossGradClipHook,
    NonFiniteLossError,
    NonFiniteLossHook,
    ResumedScheduleHook,
    TorchRngCheckpointHook,
    WeightsOnlyCheckpointHook,
)

__all__ = ['AtomicCheckpointHook', 'CheckpointPairingHook', 'DistillLossGradClipHook', 'NonFiniteLossError',
           'NonFiniteLossHook', 'ResumedScheduleHook', 'TorchRngCheckpointHook', 'WeightsOnlyCheckpointHook']
